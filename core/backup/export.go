package backup

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/pfinni/pfinni/core/store"
)

// skipped are the tables a backup leaves out, and why: a restored
// installation starts with everyone signed out, fresh throttles, an
// empty cache, no outstanding one-time links and no queue probes.
var skipped = []string{"session", "rate_counter", "cache_entry", "password_token", "job_probe", "job_probe_run"}

// auditTable is read apart from the snapshot, as a key range up to the
// head the snapshot saw: its events are never changed or deleted, so the
// range read later is exactly what the snapshot held.
const auditTable = "audit"

// pageSize is how many records one CBOR item (and one restore INSERT,
// and one audit range read) carries.
const pageSize = 500

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// KeyFileSource is a key file to name in (and, encrypted, include in) a
// backup.
type KeyFileSource struct {
	Name string // audit.key, webhook.key
	Path string
}

// ExportOptions tune Export.
type ExportOptions struct {
	// Key seals the backup (AES-256-GCM); nil writes it unencrypted.
	Key []byte
	// KeyFiles are named in the manifest and, when Key is set, included.
	KeyFiles []KeyFileSource
	// Version is pfinni's version, written to the manifest.
	Version string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// item is one CBOR item of the content: a page of a table's records, or
// an included key file.
type item struct {
	Table   string            `cbor:"t,omitempty"`
	Records []cbor.RawMessage `cbor:"r,omitempty"`
	KeyName string            `cbor:"k,omitempty"`
	KeyData []byte            `cbor:"b,omitempty"`
}

// Export writes a backup of db to w and returns its manifest.
func Export(ctx context.Context, db *store.DB, w io.Writer, opts ExportOptions) (Manifest, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	m := Manifest{Format: Format, Version: opts.Version, Schema: SchemaHash(), CreatedAt: now().UTC().Truncate(time.Second),
		Tables: map[string]Digest{}, Skipped: slices.Clone(skipped), Encrypted: opts.Key != nil}
	bw := bufio.NewWriterSize(w, 256<<10)
	if _, err := bw.WriteString(magic); err != nil {
		return m, fmt.Errorf("write backup: %w", err)
	}
	var payload io.Writer = bw
	var seal *sealWriter
	if opts.Key != nil {
		salt := make([]byte, saltSize)
		_, _ = rand.Read(salt)
		if _, err := bw.Write(salt); err != nil {
			return m, fmt.Errorf("write backup: %w", err)
		}
		var err error
		if seal, err = newSealWriter(bw, opts.Key, salt); err != nil {
			return m, err
		}
		payload = seal
	}
	zw := gzip.NewWriter(payload)
	content := sha256.New()
	enc := cbor.NewEncoder(io.MultiWriter(zw, content))

	digests := map[string]hash.Hash{}
	head, err := snapshot(ctx, db, 0, func(table string, recs []cbor.RawMessage) error {
		h := digests[table]
		if h == nil {
			h = sha256.New()
			digests[table] = h
		}
		for _, r := range recs {
			h.Write(r)
		}
		d := m.Tables[table]
		d.Count += len(recs)
		m.Tables[table] = d
		if len(recs) == 0 {
			return nil
		}
		return enc.Encode(item{Table: table, Records: recs})
	})
	if err != nil {
		return m, err
	}
	m.AuditHead = head
	for t, h := range digests {
		d := m.Tables[t]
		d.SHA256 = hex.EncodeToString(h.Sum(nil))
		m.Tables[t] = d
	}
	for _, kf := range opts.KeyFiles {
		data, err := os.ReadFile(kf.Path)
		if errors.Is(err, os.ErrNotExist) {
			continue // never created (e.g. no webhook was ever registered)
		}
		if err != nil {
			return m, fmt.Errorf("write backup: read key file: %w", err)
		}
		sum := sha256.Sum256(data)
		m.KeyFiles = append(m.KeyFiles, KeyFile{Name: kf.Name, SHA256: hex.EncodeToString(sum[:]), Included: opts.Key != nil})
		if opts.Key != nil {
			if err := enc.Encode(item{KeyName: kf.Name, KeyData: data}); err != nil {
				return m, fmt.Errorf("write backup: %w", err)
			}
		}
	}
	m.Content = hex.EncodeToString(content.Sum(nil))
	if err := zw.Close(); err != nil {
		return m, fmt.Errorf("write backup: %w", err)
	}
	if seal != nil {
		if err := seal.Close(); err != nil {
			return m, fmt.Errorf("write backup: %w", err)
		}
	}
	if err := writeTrailer(bw, m); err != nil {
		return m, err
	}
	if err := bw.Flush(); err != nil {
		return m, fmt.Errorf("write backup: %w", err)
	}
	return m, nil
}

// Digests counts and hashes every backed-up table of db as Export would,
// without writing anything; auditThrough > 0 stops the audit trail at
// that seq (to compare a restored database, whose trail has grown by the
// restore's own event, with its backup).
func Digests(ctx context.Context, db *store.DB, auditThrough int64) (map[string]Digest, Head, error) {
	out := map[string]Digest{}
	hs := map[string]hash.Hash{}
	head, err := snapshot(ctx, db, auditThrough, func(table string, recs []cbor.RawMessage) error {
		if hs[table] == nil {
			hs[table] = sha256.New()
		}
		for _, r := range recs {
			hs[table].Write(r)
		}
		d := out[table]
		d.Count += len(recs)
		out[table] = d
		return nil
	})
	for t, h := range hs {
		d := out[t]
		d.SHA256 = hex.EncodeToString(h.Sum(nil))
		out[t] = d
	}
	return out, head, err
}

// SchemaHash is the SHA-256 of the schema this pfinni applies.
func SchemaHash() string {
	sum := sha256.Sum256([]byte(store.Schema()))
	return hex.EncodeToString(sum[:])
}

// tables lists the database's tables, sorted.
func tables(ctx context.Context, db *store.DB) ([]string, error) {
	info, err := store.Query[struct {
		Tables map[string]any `json:"tables"`
	}](ctx, db, "INFO FOR DB", nil)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	out := make([]string, 0, len(info.Tables))
	for t := range info.Tables {
		if !tableName.MatchString(t) {
			return nil, fmt.Errorf("list tables: unexpected table name %q", t)
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return out, nil
}

// snapshot hands every backed-up table's records to emit, table by table
// in name order, records in id order, in pages. All tables but the audit
// trail are read in one transaction (one consistent version of the
// database); the audit trail is read afterwards as the key range up to
// the head that transaction saw (or auditThrough).
func snapshot(ctx context.Context, db *store.DB, auditThrough int64, emit func(string, []cbor.RawMessage) error) (Head, error) {
	names, err := tables(ctx, db)
	if err != nil {
		return Head{}, err
	}
	var data []string
	var sql strings.Builder
	sql.WriteString("BEGIN TRANSACTION;\n")
	for _, t := range names {
		if t == auditTable || slices.Contains(skipped, t) {
			continue
		}
		data = append(data, t)
		fmt.Fprintf(&sql, "SELECT * FROM `%s` ORDER BY id;\n", t)
	}
	sql.WriteString("SELECT * FROM audit ORDER BY id DESC LIMIT 1;\nCOMMIT TRANSACTION;")
	res, err := store.QueryAll[[]cbor.RawMessage](ctx, db, sql.String(), nil)
	if err != nil {
		return Head{}, fmt.Errorf("read snapshot: %w", err)
	}
	// BEGIN and COMMIT answer a (null) result of their own.
	if len(res) == len(data)+3 {
		res = res[1 : len(res)-1]
	}
	if len(res) != len(data)+1 {
		return Head{}, fmt.Errorf("read snapshot: %d results for %d statements", len(res), len(data)+1)
	}
	for i, t := range data {
		recs := res[i]
		if len(recs) == 0 {
			if err := emit(t, nil); err != nil {
				return Head{}, err
			}
		}
		for len(recs) > 0 {
			n := min(pageSize, len(recs))
			if err := emit(t, recs[:n]); err != nil {
				return Head{}, err
			}
			recs = recs[n:]
		}
	}
	var head Head
	if last := res[len(data)]; len(last) == 1 {
		if head, err = decodeHead(last[0]); err != nil {
			return Head{}, err
		}
	}
	if auditThrough > 0 && auditThrough < head.Seq {
		head.Seq = auditThrough
	}
	if err := emit(auditTable, nil); err != nil {
		return Head{}, err
	}
	var last cbor.RawMessage
	for lo := int64(1); lo <= head.Seq; lo += pageSize {
		hi := min(lo+pageSize-1, head.Seq)
		recs, err := store.Query[[]cbor.RawMessage](ctx, db, fmt.Sprintf("SELECT * FROM audit:%d..=%d", lo, hi), nil)
		if err != nil {
			return Head{}, fmt.Errorf("read audit trail: %w", err)
		}
		if int64(len(recs)) != hi-lo+1 {
			return Head{}, fmt.Errorf("read audit trail: %d events in seq %d..%d (a gap in the chain: run pfinni audit verify)", len(recs), lo, hi)
		}
		if err := emit(auditTable, recs); err != nil {
			return Head{}, err
		}
		last = recs[len(recs)-1]
	}
	if last != nil {
		if head, err = decodeHead(last); err != nil {
			return Head{}, err
		}
	}
	return head, nil
}

// decodeHead reads seq, hash and key id from an audit record.
func decodeHead(raw cbor.RawMessage) (Head, error) {
	var h struct {
		Seq   int64  `cbor:"seq"`
		Hash  string `cbor:"hash"`
		KeyID string `cbor:"key_id"`
	}
	if err := decMode.Unmarshal(raw, &h); err != nil {
		return Head{}, fmt.Errorf("read audit head: %w", err)
	}
	return Head{Seq: h.Seq, Hash: h.Hash, KeyID: h.KeyID}, nil
}

// decMode decodes the content: SurrealDB's tags stay opaque (records are
// kept as raw CBOR), and the limits fit a page of records.
var decMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{MaxArrayElements: 1 << 20, MaxMapPairs: 1 << 20, MaxNestedLevels: 64}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// writeFileAtomic writes a file through write into dir under name: a
// temporary file first (0600), renamed when complete, so a reader never
// sees half a backup.
func writeFileAtomic(dir, name string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(dir, ".backup-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, name))
}
