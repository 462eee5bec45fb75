package backup

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/store"
)

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Key opens an encrypted backup.
	Key []byte
	// Force replaces what the database holds (and key files that differ
	// from the backup's); without it a non-empty database is refused.
	Force bool
	// KeyFiles say where each key file the backup names belongs. An
	// included one is written there (0600); one the operator kept must
	// already be there, the same file (by SHA-256) or, for audit.key,
	// one whose keys still verify the backup's audit head.
	KeyFiles []KeyFileSource
	// HeadFile is the audit head file of the target installation; it is
	// removed (it described the database being replaced), and the next
	// audit event writes it again.
	HeadFile string
}

// Restore loads the backup at path into db: it checks the format, that
// every table exists in this pfinni's schema, the key, and every hash
// before it changes anything; then that the database is empty (or
// Force), puts the key files in place, and inserts the records as they
// were.
func Restore(ctx context.Context, db *store.DB, path string, opts RestoreOptions) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	m, off, n, err := readTrailer(f, fi.Size())
	if err != nil {
		return m, err
	}
	if err := m.compatible(); err != nil {
		return m, err
	}
	have, err := tables(ctx, db)
	if err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	for t := range m.Tables {
		if !tableName.MatchString(t) || !slices.Contains(have, t) {
			return m, fmt.Errorf("%w: the backup has table %q, which this pfinni's schema does not define (it was written by pfinni %s)", ErrIncompatible, t, m.Version)
		}
	}
	if m.Encrypted && opts.Key == nil {
		return m, fmt.Errorf("restore: %w: the backup is encrypted; set PFINNI_BACKUP_KEY to the key it was made with", ErrBadKey)
	}
	src := io.NewSectionReader(f, off, n)

	// Pass 1: every hash, before anything changes.
	var auditHead cbor.RawMessage
	keys := map[string][]byte{}
	got := map[string]hash.Hash{}
	counts := map[string]int{}
	content, err := readContent(src, m, opts.Key, func(it item) error {
		switch {
		case it.KeyName != "":
			keys[it.KeyName] = it.KeyData
		case it.Table != "":
			if _, ok := m.Tables[it.Table]; !ok {
				return fmt.Errorf("restore: %w: table %q is not in the manifest", ErrCorrupt, it.Table)
			}
			if got[it.Table] == nil {
				got[it.Table] = sha256.New()
			}
			for _, r := range it.Records {
				got[it.Table].Write(r)
			}
			counts[it.Table] += len(it.Records)
			if it.Table == auditTable && len(it.Records) > 0 {
				auditHead = it.Records[len(it.Records)-1]
			}
		}
		return nil
	})
	if err != nil {
		return m, err
	}
	if content != m.Content {
		return m, fmt.Errorf("restore: %w: content hash %s, the manifest says %s", ErrCorrupt, content, m.Content)
	}
	for t, d := range m.Tables {
		sum := hex.EncodeToString(sha256.New().Sum(nil))
		if h := got[t]; h != nil {
			sum = hex.EncodeToString(h.Sum(nil))
		}
		if counts[t] != d.Count || sum != d.SHA256 {
			return m, fmt.Errorf("restore: %w: table %s has %d records (hash %.12s…), the manifest says %d (%.12s…)", ErrCorrupt, t, counts[t], sum, d.Count, d.SHA256)
		}
	}

	if err := checkEmpty(ctx, db, have, opts.Force); err != nil {
		return m, err
	}
	if err := placeKeyFiles(m, keys, auditHead, opts); err != nil {
		return m, err
	}
	if opts.Force {
		if err := empty(ctx, db, have); err != nil {
			return m, err
		}
	}

	// Pass 2: insert.
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	if _, err := readContent(src, m, opts.Key, func(it item) error {
		if it.Table == "" || len(it.Records) == 0 {
			return nil
		}
		sql := fmt.Sprintf("INSERT INTO `%s` $rows RETURN NONE", it.Table)
		if err := db.Exec(ctx, sql, map[string]any{"rows": it.Records}); err != nil {
			return fmt.Errorf("restore: insert %d records into %s: %w", len(it.Records), it.Table, err)
		}
		return nil
	}); err != nil {
		// No half-restored database: empty it again (it was empty, or
		// --force gave up its content) and say so.
		if eerr := empty(context.WithoutCancel(ctx), db, have); eerr != nil {
			return m, fmt.Errorf("%w; emptying the half-restored database failed too: %w", err, eerr)
		}
		return m, fmt.Errorf("%w (nothing was kept: the database is empty again)", err)
	}
	if opts.HeadFile != "" {
		if err := os.Remove(opts.HeadFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return m, fmt.Errorf("restore: remove the old audit head file: %w", err)
		}
	}
	return m, nil
}

// empty deletes every record of the tables, in one transaction.
func empty(ctx context.Context, db *store.DB, tables []string) error {
	var del strings.Builder
	del.WriteString("BEGIN TRANSACTION;\n")
	for _, t := range tables {
		fmt.Fprintf(&del, "DELETE `%s`;\n", t)
	}
	del.WriteString("COMMIT TRANSACTION;")
	if err := db.Exec(ctx, del.String(), nil); err != nil {
		return fmt.Errorf("restore: empty the database: %w", err)
	}
	return nil
}

// readContent opens the payload (key, gzip), hands each item to fn and
// returns the SHA-256 of the uncompressed content.
func readContent(src io.Reader, m Manifest, key []byte, fn func(item) error) (string, error) {
	r := bufio.NewReaderSize(src, 256<<10)
	var payload io.Reader = r
	if m.Encrypted {
		salt := make([]byte, saltSize)
		if _, err := io.ReadFull(r, salt); err != nil {
			return "", fmt.Errorf("restore: %w: no salt", ErrCorrupt)
		}
		o, err := newOpenReader(r, key, salt)
		if err != nil {
			return "", err
		}
		payload = o
	}
	zr, err := gzip.NewReader(payload)
	if err != nil {
		if errors.Is(err, ErrBadKey) {
			return "", err
		}
		return "", fmt.Errorf("restore: %w: %w", ErrCorrupt, err)
	}
	content := sha256.New()
	dec := decMode.NewDecoder(io.TeeReader(zr, content))
	for {
		var it item
		err := dec.Decode(&it)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, ErrBadKey) || errors.Is(err, ErrCorrupt) {
				return "", err
			}
			return "", fmt.Errorf("restore: %w: %w", ErrCorrupt, err)
		}
		if err := fn(it); err != nil {
			return "", err
		}
	}
	if err := zr.Close(); err != nil {
		return "", fmt.Errorf("restore: %w: %w", ErrCorrupt, err)
	}
	return hex.EncodeToString(content.Sum(nil)), nil
}

// checkEmpty refuses a database holding any record unless force.
func checkEmpty(ctx context.Context, db *store.DB, names []string, force bool) error {
	if force || len(names) == 0 {
		return nil
	}
	var sql strings.Builder
	for _, t := range names {
		fmt.Fprintf(&sql, "SELECT VALUE id FROM `%s` LIMIT 1;\n", t)
	}
	res, err := store.QueryAll[[]cbor.RawMessage](ctx, db, sql.String(), nil)
	if err != nil {
		return fmt.Errorf("restore: check the database is empty: %w", err)
	}
	var full []string
	for i, r := range res {
		if len(r) > 0 {
			full = append(full, names[i])
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("restore: %w: tables %s hold records; restore into an empty database, or pass --force to replace them", ErrNotEmpty, strings.Join(full, ", "))
	}
	return nil
}

// placeKeyFiles puts included key files where they belong and checks that
// kept ones are there.
func placeKeyFiles(m Manifest, included map[string][]byte, auditHead []byte, opts RestoreOptions) error {
	for _, kf := range m.KeyFiles {
		i := slices.IndexFunc(opts.KeyFiles, func(s KeyFileSource) bool { return s.Name == kf.Name })
		if i < 0 {
			return fmt.Errorf("restore: %w: nowhere to put %s", ErrKeyFile, kf.Name)
		}
		path := opts.KeyFiles[i].Path
		cur, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore: %w: %w", ErrKeyFile, err)
		}
		exists := err == nil
		same := exists && hashOf(cur) == kf.SHA256
		if kf.Included {
			data, ok := included[kf.Name]
			if !ok || hashOf(data) != kf.SHA256 {
				return fmt.Errorf("restore: %w: %s is not in the backup", ErrCorrupt, kf.Name)
			}
			if same {
				continue
			}
			if exists && !opts.Force {
				return fmt.Errorf("restore: %w: %s already exists and differs from the backup's; move it away or pass --force", ErrKeyFile, path)
			}
			if err := writeKeyFile(path, data); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
			continue
		}
		if same {
			continue
		}
		if exists && kf.Name == auditKeyName && auditHead != nil && signs(path, auditHead) == nil {
			continue // a later copy of the same key file (keys added since)
		}
		if !exists {
			return fmt.Errorf("restore: %w: the backup is not encrypted and so does not carry %s: copy the installation's %s (SHA-256 %.16s…) to %s first",
				ErrKeyFile, kf.Name, kf.Name, kf.SHA256, path)
		}
		return fmt.Errorf("restore: %w: %s is not the %s this backup was made with (SHA-256 %.16s…)", ErrKeyFile, path, kf.Name, kf.SHA256)
	}
	return nil
}

// auditKeyName is the audit chain's key file in KeyFiles.
const auditKeyName = "audit.key"

// signs checks that the audit key file at path holds the key the audit
// event raw was signed with: a rotated key file differs from the one
// backed up but still verifies the events signed before.
func signs(path string, raw []byte) error {
	keys, err := audit.LoadKeyring(path)
	if err != nil {
		return err
	}
	var e audit.Event
	if err := store.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("read the audit head: %w", err)
	}
	h, err := keys.Hash(e)
	if err != nil {
		return err
	}
	if h != e.Hash {
		return fmt.Errorf("the audit head's hash does not verify with %s", path)
	}
	return nil
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writeKeyFile writes a key file, 0600, its folder 0700.
func writeKeyFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	return writeFileAtomic(filepath.Dir(path), filepath.Base(path), func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}
