package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// Anchor is the head of the chain as exported to be kept outside the
// database: the newest event's seq, hash and key id, and when it was
// written. `pfinni audit head` and GET /api/v1/audit/head print it; a later
// verify given the anchor fails when the chain no longer reaches it
// (truncated) or holds another event there (rewritten).
type Anchor struct {
	Seq   int64     `json:"seq"`
	Hash  string    `json:"hash"`
	KeyID string    `json:"key_id"`
	At    time.Time `json:"at"`
}

// String is the short form `<hash>@<seq>` that ParseAnchor reads.
func (a Anchor) String() string { return a.Hash + "@" + strconv.FormatInt(a.Seq, 10) }

var hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseAnchor reads an anchor written as `<hash>@<seq>` (the form
// `pfinni audit verify --head` takes).
func ParseAnchor(s string) (Anchor, error) {
	h, n, ok := strings.Cut(strings.TrimSpace(s), "@")
	seq, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || seq < 1 || !hashPattern.MatchString(strings.ToLower(h)) {
		return Anchor{}, fmt.Errorf("parse audit anchor: want <64 hex digits>@<seq>, e.g. %s@42", GenesisHash[:8]+"…")
	}
	return Anchor{Seq: seq, Hash: strings.ToLower(h)}, nil
}

// ReadHeadFile reads the anchor the Log keeps in its head file (see
// Options.HeadFile). ok is false when there is no file yet.
func ReadHeadFile(path string) (a Anchor, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Anchor{}, false, nil
	}
	if err != nil {
		return Anchor{}, false, fmt.Errorf("read audit head file: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil || a.Seq < 1 || !hashPattern.MatchString(a.Hash) {
		return Anchor{}, false, fmt.Errorf("read audit head file %s: not an audit head", path)
	}
	return a, true, nil
}

// writeHeadFile replaces the head file atomically (mode 0600) with a,
// unless the file already holds a later head (another process on the same
// data dir wrote after us): the file only moves forward.
func writeHeadFile(path string, a Anchor) error {
	if old, ok, err := ReadHeadFile(path); err == nil && ok && old.Seq > a.Seq {
		return nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("write audit head file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write audit head file: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".audit-head-*")
	if err != nil {
		return fmt.Errorf("write audit head file: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	if err := errors.Join(werr, f.Close()); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write audit head file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write audit head file: %w", err)
	}
	return nil
}

// Head returns the newest event of the chain as an Anchor, to be noted
// down outside the database. Only admins, auditors and the system may ask;
// the read is audited after the head was taken (so the answer is the
// head before that read event).
func (l *Log) Head(ctx context.Context) (Anchor, error) {
	if err := l.authorize(ctx, "head"); err != nil {
		return Anchor{}, fmt.Errorf("audit head: %w", err)
	}
	a, err := loadHead(ctx, l.db)
	if err != nil {
		_ = l.recordRead(ctx, OutcomeError, "head")
		return Anchor{}, fmt.Errorf("audit head: %w", err)
	}
	if err := l.recordRead(ctx, OutcomeSuccess, fmt.Sprintf("head: seq %d", a.Seq)); err != nil {
		return Anchor{}, fmt.Errorf("audit head: %w", err)
	}
	return a, nil
}

// loadHead reads the newest event's anchor (seq 0 and GenesisHash for an
// empty chain).
func loadHead(ctx context.Context, db *store.DB) (Anchor, error) {
	type last struct {
		Seq   int64     `json:"seq"`
		Hash  string    `json:"hash"`
		KeyID string    `json:"key_id"`
		At    time.Time `json:"at"`
	}
	rows, err := store.Query[[]last](ctx, db, "SELECT id, seq, hash, key_id, at FROM audit ORDER BY id DESC LIMIT 1", nil)
	if err != nil {
		return Anchor{}, fmt.Errorf("load audit chain head: %w", err)
	}
	if len(rows) == 0 {
		return Anchor{Hash: GenesisHash}, nil
	}
	r := rows[0]
	return Anchor{Seq: r.Seq, Hash: r.Hash, KeyID: r.KeyID, At: r.At.UTC()}, nil
}
