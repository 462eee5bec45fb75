package backup

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Format is the backup file format this pfinni writes and reads. A later
// format is refused with ErrIncompatible rather than half understood.
const Format = 1

const (
	magic      = "PFINNI-BACKUP\n"
	endMagic   = "PFBKEND1"
	trailerLen = 8 + len(endMagic)
	// maxManifest bounds the manifest a reader accepts.
	maxManifest = 1 << 20
)

// Errors callers decide on.
var (
	// ErrIncompatible means the backup was written by a pfinni whose
	// format or schema this one cannot restore.
	ErrIncompatible = errors.New("backup is incompatible with this pfinni")
	// ErrCorrupt means the file is not a pfinni backup, is truncated, or
	// its content does not match its manifest.
	ErrCorrupt = errors.New("backup is damaged")
	// ErrNotEmpty means restore found records in the database and was
	// not told to replace them.
	ErrNotEmpty = errors.New("database is not empty")
	// ErrKeyFile means a key file the restored data needs is missing or
	// is not the one the backup was made with.
	ErrKeyFile = errors.New("key file missing or different")
)

// Manifest describes a backup. It holds no PHI: versions, counts and
// hashes only.
type Manifest struct {
	Format    int       `json:"format"`
	Version   string    `json:"version"`       // pfinni's version that wrote it
	Schema    string    `json:"schema_sha256"` // SHA-256 of the schema it was written under
	CreatedAt time.Time `json:"created_at"`
	// AuditHead is the newest audit event in the backup (seq 0 when the
	// trail is empty): after a restore, `pfinni audit verify` reaches it.
	AuditHead Head `json:"audit_head"`
	// Tables has every table's record count and content hash (SHA-256
	// of its records' CBOR, in record id order).
	Tables map[string]Digest `json:"tables"`
	// Skipped are the tables deliberately left out: sessions, throttle
	// counters, cache entries, one-time tokens, queue probes.
	Skipped []string `json:"skipped_tables"`
	// Content is the SHA-256 of the whole uncompressed content.
	Content   string `json:"content_sha256"`
	Encrypted bool   `json:"encrypted"`
	// KeyFiles are the key files outside the database the data needs:
	// included (sealed) in an encrypted backup, else to be kept by the
	// operator beside the backups.
	KeyFiles []KeyFile `json:"key_files"`
}

// Head is an audit chain head.
type Head struct {
	Seq   int64  `json:"seq"`
	Hash  string `json:"hash"`
	KeyID string `json:"key_id,omitempty"`
}

// Digest is one table's count and content hash.
type Digest struct {
	Count  int    `json:"count"`
	SHA256 string `json:"sha256"`
}

// KeyFile is a key file the restored data needs.
type KeyFile struct {
	Name     string `json:"name"`   // audit.key, webhook.key
	SHA256   string `json:"sha256"` // of the file, to recognise the right copy
	Included bool   `json:"included"`
}

// readTrailer reads the manifest at the end of f and returns it with
// the payload's offset and length.
func readTrailer(f io.ReaderAt, size int64) (m Manifest, off, n int64, err error) {
	head := make([]byte, len(magic))
	if size < int64(len(magic)+trailerLen) {
		return m, 0, 0, fmt.Errorf("read backup: %w: not a pfinni backup (too short)", ErrCorrupt)
	}
	if _, err := f.ReadAt(head, 0); err != nil || string(head) != magic {
		return m, 0, 0, fmt.Errorf("read backup: %w: not a pfinni backup", ErrCorrupt)
	}
	tr := make([]byte, trailerLen)
	if _, err := f.ReadAt(tr, size-int64(trailerLen)); err != nil {
		return m, 0, 0, fmt.Errorf("read backup: %w", err)
	}
	if string(tr[8:]) != endMagic {
		return m, 0, 0, fmt.Errorf("read backup: %w: the end marker is missing (truncated?)", ErrCorrupt)
	}
	ml := int64(binary.BigEndian.Uint64(tr[:8]))
	if ml <= 0 || ml > maxManifest || ml > size-int64(len(magic)+trailerLen) {
		return m, 0, 0, fmt.Errorf("read backup: %w: bad manifest length", ErrCorrupt)
	}
	mb := make([]byte, ml)
	if _, err := f.ReadAt(mb, size-int64(trailerLen)-ml); err != nil {
		return m, 0, 0, fmt.Errorf("read backup: %w", err)
	}
	if err := json.Unmarshal(mb, &m); err != nil {
		return m, 0, 0, fmt.Errorf("read backup: %w: manifest: %w", ErrCorrupt, err)
	}
	off = int64(len(magic))
	n = size - int64(trailerLen) - ml - off
	return m, off, n, nil
}

// writeTrailer appends the manifest and the trailer.
func writeTrailer(w io.Writer, m Manifest) error {
	mb, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("write backup manifest: %w", err)
	}
	var l [8]byte
	binary.BigEndian.PutUint64(l[:], uint64(len(mb)))
	for _, b := range [][]byte{mb, l[:], []byte(endMagic)} {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write backup manifest: %w", err)
		}
	}
	return nil
}

// Inspect reads a backup file's manifest without its key.
func Inspect(path string) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("inspect backup: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Manifest{}, fmt.Errorf("inspect backup: %w", err)
	}
	m, _, _, err := readTrailer(f, fi.Size())
	return m, err
}

// compatible says why m cannot be restored by this pfinni, or nil.
func (m Manifest) compatible() error {
	if m.Format != Format {
		return fmt.Errorf("%w: backup format %d (written by pfinni %s); this pfinni reads format %d: restore it with the pfinni version that wrote it, or a later one",
			ErrIncompatible, m.Format, m.Version, Format)
	}
	return nil
}
