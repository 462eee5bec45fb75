// Package importer is pfinni's patient import pipeline: it takes healthcare
// XML documents (HL7 C-CDA and FHIR XML) from the CLI or an upload, stores
// every document and a job describing the work in SurrealDB before any
// work starts, parses each document through the importer plugin for its
// format (sandboxed WASM, routed by core/plugin), matches the patients it
// finds by MRN and creates, updates or leaves them through the patient
// service, and reports a result per file with problems in plain words.
//
// Semantics, in short:
//   - Idempotent: a document whose content (sha256) was already imported
//     is "unchanged" and touches nothing; re-parsing an equal document
//     finds nothing to change.
//   - Matching by MRN: a new MRN creates a patient (status onboarding,
//     source "import:<file name>"); changed demographics update it (the
//     patient service keeps the history); data that looks like another
//     person under the same MRN (conflict.go) is reported, never applied.
//   - Never lose a file: the original document is kept (source_document),
//     linked to its patients and readable by staff (audited); a rejected
//     file stays in the quarantine with its reason until a retry succeeds.
//   - Resumable: each job runs as a job of the durable queue (core/jobs,
//     resume.go), which holds its lease; a job whose instance died is
//     taken over by any instance's queue workers (or the next run) once
//     the lease has expired, and its pending files are finished.
//
// Built once by core/app (New, then Start; Close on shutdown) and used by
// core/api (imports.go) and cmd/pfinni (pfinni import). A Service is safe
// for concurrent use; it keeps no state that two core instances sharing a
// database would need to agree on outside SurrealDB.
//
// SurrealDB documentation this package follows:
//   - https://surrealdb.com/docs/surrealql/statements/insert (bulk INSERT, INSERT IGNORE)
//   - https://surrealdb.com/docs/surrealql/statements/update (conditional UPDATE ... WHERE)
//   - https://surrealdb.com/docs/surrealql/statements/select
//   - https://surrealdb.com/docs/surrealql/datamodel/bytes (the original documents)
//   - https://surrealdb.com/docs/surrealql/statements/define/indexes (unique sha256)
//   - https://surrealdb.com/docs/surrealql/functions/database/record (record::id)
package importer
