// Package patient is pfinni's patient and provider domain: the patient
// record and its validation, the status workflow (defined once, in
// workflow.go), optimistic concurrency, per-change history, and the
// in-memory patient directory that serves every patient read — get,
// list, filters, typo-tolerant search, totals, birthdays and dashboard
// figures — without touching SurrealDB.
//
// SurrealDB stays the system of record. Writes commit to the database
// first (one transaction per change, with its history rows) and then
// update this instance's directory (write-through); writes of other core
// instances on the same database arrive through live queries and are
// applied idempotently by version. After a reconnect the directory is
// reloaded in full.
//
// Every operation is audited by the Service itself (through the Auditor
// given to New), so the API, the CLI, the chat assistant and plugins are
// audited alike; audit events carry ids, actions and field names, never
// PHI values. The Service also refuses anonymous callers and auditors
// (defense in depth behind the API's role checks).
//
// Concurrency: a Service is safe for concurrent use. Reads take a shared
// lock on the directory; records in the directory are immutable once
// stored (a change replaces the record), so a returned *Patient is a
// private copy the caller may keep.
//
// Any core package may import patient (api, chat, importer glue, app);
// plugins reach it only through the plugin host.
//
// SurrealDB documentation this package follows:
//   - https://surrealdb.com/docs/surrealql/statements/begin (transactions: BEGIN/COMMIT in one query)
//   - https://surrealdb.com/docs/surrealql/statements/update (UPDATE ... MERGE ... WHERE, conditional update)
//   - https://surrealdb.com/docs/surrealql/statements/insert (bulk INSERT of many rows)
//   - https://surrealdb.com/docs/surrealql/statements/live (LIVE SELECT for other instances' writes)
//   - https://surrealdb.com/docs/surrealql/statements/throw (aborting a transaction)
//   - https://surrealdb.com/docs/surrealql/functions/database/record (record::id)
package patient
