package audit

import (
	"context"
	"fmt"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/store"
)

// Problems Verify reports.
const (
	ProblemGap          = "gap"                // events are missing before this seq
	ProblemSeqMismatch  = "seq_mismatch"       // the record's seq field is not its position
	ProblemHashMismatch = "hash_mismatch"      // the event's fields do not hash to its hash
	ProblemPrevMismatch = "prev_hash_mismatch" // the event does not chain to the one before
)

// Report is the result of Verify.
type Report struct {
	OK bool `json:"ok"`
	// Count is how many events were checked and found intact, in seq
	// order, before the first broken link (all of them when OK).
	Count int64 `json:"count"`
	// HeadSeq and HeadHash are the last intact event; note them down
	// outside the database to anchor the chain.
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	// Broken is the first broken link; nil when OK.
	Broken *Break `json:"broken,omitempty"`
}

// Break describes the first broken link of the chain.
type Break struct {
	Seq     int64  `json:"seq"`
	Problem string `json:"problem"` // one of the Problem constants
	Detail  string `json:"detail"`
}

// String says what Verify found, in one line.
func (r Report) String() string {
	if r.OK {
		return fmt.Sprintf("audit chain OK: %d events", r.Count)
	}
	return fmt.Sprintf("audit chain BROKEN at seq %d (%s): %s; %d events intact before it", r.Broken.Seq, r.Broken.Problem, r.Broken.Detail, r.Count)
}

// Verify walks the whole chain in seq order, a page (Options.PageSize)
// at a time, and reports the first broken link. Only admins, auditors and
// the system may run it; the run is audited (audit.read) after the walk,
// so it does not count itself.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	if err := l.authorize(ctx, "verify"); err != nil {
		return Report{}, fmt.Errorf("verify audit chain: %w", err)
	}
	rep, err := l.verify(ctx)
	if err != nil {
		_ = l.recordRead(ctx, OutcomeError, "verify") // the walk's error is what the caller needs
		return Report{}, fmt.Errorf("verify audit chain: %w", err)
	}
	detail := fmt.Sprintf("verify: ok, %d events", rep.Count)
	if !rep.OK {
		detail = fmt.Sprintf("verify: broken at seq %d (%s)", rep.Broken.Seq, rep.Broken.Problem)
	}
	if err := l.recordRead(ctx, OutcomeSuccess, detail); err != nil {
		return Report{}, fmt.Errorf("verify audit chain: %w", err)
	}
	return rep, nil
}

func (l *Log) verify(ctx context.Context) (Report, error) {
	rep := Report{HeadHash: GenesisHash}
	next := int64(1) // the seq the next event must have
	prev := GenesisHash
	for {
		// A forward key-range scan from the next expected id: it skips
		// over any missing ids, so a gap is seen rather than taken for
		// the end of the chain.
		sql := fmt.Sprintf("SELECT * FROM audit:%d.. LIMIT $n", next)
		page, err := store.Query[[]storedEvent](ctx, l.db, sql, map[string]any{"n": l.opts.PageSize})
		if err != nil {
			return Report{}, err
		}
		for _, s := range page {
			e := s.Event
			if b := check(s, next, prev); b != nil {
				rep.Broken = b
				return rep, nil
			}
			rep.Count++
			rep.HeadSeq, rep.HeadHash = e.Seq, e.Hash
			prev = e.Hash
			next++
		}
		if len(page) < l.opts.PageSize {
			rep.OK = true
			return rep, nil
		}
	}
}

// storedEvent is an Event read back with its record id.
type storedEvent struct {
	ID models.RecordID `json:"id"`
	Event
}

// check returns the break at s, if any, given the seq and prev_hash the
// chain expects there.
func check(s storedEvent, next int64, prev string) *Break {
	e := s.Event
	key := idKey(s.ID)
	switch {
	case key < 0:
		return &Break{Seq: next, Problem: ProblemSeqMismatch,
			Detail: fmt.Sprintf("record %s is not part of the chain (inserted?)", s.ID.String())}
	case key > next:
		return &Break{Seq: next, Problem: ProblemGap,
			Detail: fmt.Sprintf("events %d..%d are missing (deleted?)", next, key-1)}
	case e.Seq != key:
		return &Break{Seq: key, Problem: ProblemSeqMismatch,
			Detail: fmt.Sprintf("record audit:%d says seq %d (changed?)", key, e.Seq)}
	case ComputeHash(e) != e.Hash:
		return &Break{Seq: key, Problem: ProblemHashMismatch,
			Detail: fmt.Sprintf("event %d does not match its hash: its fields were changed", key)}
	case e.PrevHash != prev:
		return &Break{Seq: key, Problem: ProblemPrevMismatch,
			Detail: fmt.Sprintf("event %d does not chain to event %d: one of them was replaced", key, key-1)}
	}
	return nil
}

// idKey returns the numeric key of an audit record id, or -1.
func idKey(id models.RecordID) int64 {
	switch n := id.ID.(type) {
	case int64:
		return n
	case uint64:
		return int64(n)
	case int:
		return int64(n)
	}
	return -1
}
