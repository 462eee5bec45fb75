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
// prev_hash (the hash of event seq-1; 64 zeros for seq 1), key_id and
//
//	hash = hex(HMAC-SHA256(key[key_id], canonical encoding))   keyed (version 2)
//	hash = hex(SHA-256(canonical encoding))                     unkeyed (version 1, key_id "")
//
// The keys live outside the database (Keyring, loaded from the key file
// core/app names), so someone who can write to the database but not read
// the key file cannot recompute a chain that verifies. The active key
// signs new events; older keys stay in the file so their events verify
// (rotation: RotateKeyFile). Unkeyed events are those written before keys
// existed; one after a keyed event fails Verify (ProblemUnkeyed).
//
// The canonical encoding of version 2 is that of version 1 below with the
// prefix "pfinni.audit.v2" and key_id appended as a last field.
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
// Verify names the first broken link. The chain cannot, by itself, show
// that its newest events were deleted, or that the whole chain was
// rewritten as an unkeyed one: the head (Anchor: seq, hash, key id, time)
// must be kept outside the database. The Log writes the newest head it
// stored to Options.HeadFile, Verify checks the chain still reaches it
// (ProblemTruncated, ProblemAnchor), and Head / VerifyAnchor let an
// auditor anchor it anywhere else (`pfinni audit head`, `pfinni audit
// verify --head HASH@SEQ`).
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
