// Package backup writes and restores pfinni's backups: one file holding
// every table of the database (a consistent snapshot), the manifest that
// describes it (format, pfinni and schema version, the audit chain's head,
// a count and SHA-256 per table and of the whole content) and, when the
// backup is encrypted, the key files the data cannot be used without.
//
// A backup file is, in order: the line "PFINNI-BACKUP\n"; when encrypted,
// a 16-byte salt; the payload (a gzip stream of CBOR items, sealed with
// AES-256-GCM in 64 KiB chunks when encrypted); the manifest as JSON; the
// manifest's length (8 bytes, big endian) and "PFBKEND1". The manifest is
// at the end because the hashes are known only once the content is
// written; it holds no PHI (counts, hashes, versions), so the admin page
// lists backups without the key.
//
// Records travel as the CBOR the database sent (record ids and datetimes
// keep their SurrealDB tags), so a restored record is byte for byte the
// one that was backed up.
//
// core/app (scheduled backups, the admin API) and cmd/pfinni (pfinni
// backup, pfinni restore) import it. A Service is safe for concurrent use.
package backup
