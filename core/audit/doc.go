// Package audit is pfinni's tamper-evident audit trail: every read or
// change of patient data, every login and every user or role change
// leaves an Event (who, which record, which action, when, outcome) —
// never a PHI value. Domain services (not HTTP handlers) call
// Log.Record, so the API, the CLI, the chat assistant and plugins are
// audited alike. Any core package may import audit; plugins and the SDK
// never do.
//
// # Group commit
//
// Record hands its event to the Log's single writer goroutine and waits.
// The writer gathers the events of concurrent callers for at most
// Options.MaxDelay after the first one (or until Options.MaxBatch are
// waiting), numbers and chains them, and stores them with ONE
// `INSERT INTO audit $rows`. Each caller is released with its own result
// only after that statement committed, so a response leaves only after its
// audit event is stored. When the database is down, Record fails with an
// error wrapping store.ErrUnavailable and the caller must not proceed.
// Close stops accepting events and drains: nothing accepted is lost.
//
// # Hash chain
//
// Events are numbered seq = 1, 2, 3, … without gaps; the record id is
// audit:<seq>, which keeps the newest event one backward key step away
// and lets Verify walk the chain as a key-range scan. Every event carries
// prev_hash (the hash of event seq-1; 64 zeros for seq 1) and
//
//	hash = hex(SHA-256(canonical encoding))
//
// The canonical encoding (version 1) is the ASCII string "pfinni.audit.v1"
// followed by these fields in this order, each written as its byte length
// in decimal, a colon, the UTF-8 bytes, and a semicolon (netstring-like,
// so no two different events encode alike):
//
//	seq         decimal, no sign, no leading zeros
//	at          UTC, RFC 3339 with nanoseconds, trailing zeros dropped
//	            (time.RFC3339Nano); Record truncates At to microseconds
//	actor, role, action, resource, record, outcome, request_id, ip,
//	detail      as stored
//	prev_hash   64 lower-case hex digits
//
// For example seq 7 starts "pfinni.audit.v1" + "1:7;" + "27:2025-03-01T09:30:00.123456Z;".
// Changing any field of a stored event breaks its hash; deleting or
// reordering events breaks the seq sequence or the next prev_hash;
// Verify names the first broken link. The chain cannot, by itself, stop
// someone with write access from rewriting the whole tail consistently:
// Report.HeadHash is meant to be noted down outside the database (an
// anchor); a later Verify must still pass through it.
//
// # Two core instances
//
// The writer keeps the chain tail (last seq and hash) in memory. When
// another instance appended in the meantime, the batch's record ids (and
// the unique index on seq) collide, the INSERT fails as a whole with
// store.ErrConflict, and the writer reloads the tail, renumbers and
// rehashes the batch and tries again.
//
// SurrealDB documentation this package follows:
//   - https://surrealdb.com/docs/surrealql/statements/insert (bulk INSERT of an array)
//   - https://surrealdb.com/docs/surrealql/datamodel/ids (numeric record ids, record ranges)
//   - https://surrealdb.com/docs/surrealql/statements/select (ORDER BY, LIMIT, EXPLAIN)
//   - https://surrealdb.com/docs/surrealql/statements/define/field (READONLY, ASSERT)
//   - https://surrealdb.com/docs/surrealql/statements/define/indexes (UNIQUE)
package audit
