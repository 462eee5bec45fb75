package audit

import (
	"context"
	"errors"
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
	ProblemUnknownKey   = "unknown_key"        // the event names a key the keyring lacks
	ProblemUnkeyed      = "unkeyed"            // an unkeyed event follows keyed ones (downgraded?)
	ProblemTruncated    = "truncated"          // the chain ends before the anchor's seq
	ProblemAnchor       = "anchor_mismatch"    // the event at the anchor's seq is not the anchored one
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
	// HeadKeyID is the key id of the last intact event ("" when unkeyed).
	HeadKeyID string `json:"head_key_id"`
	// Anchor is the head kept outside the database that the chain was
	// checked against (Options.HeadFile, or one given to VerifyAnchor);
	// nil when there was none.
	Anchor *Anchor `json:"anchor,omitempty"`
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
// at a time, and reports the first broken link. When Options.HeadFile
// holds a head, the chain must also still reach it unchanged. Only
// admins, auditors and the system may run it; the run is audited
// (audit.read) after the walk, so it does not count itself.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	var anchor *Anchor
	if l.opts.HeadFile != "" {
		a, ok, err := ReadHeadFile(l.opts.HeadFile)
		if err != nil {
			return Report{}, fmt.Errorf("verify audit chain: %w", err)
		}
		if ok {
			anchor = &a
		}
	}
	return l.verifyAudited(ctx, anchor)
}

// VerifyAnchor is Verify against a head noted down elsewhere (see Head):
// besides every link, the chain must reach a.Seq and hold a.Hash there.
func (l *Log) VerifyAnchor(ctx context.Context, a Anchor) (Report, error) {
	return l.verifyAudited(ctx, &a)
}

func (l *Log) verifyAudited(ctx context.Context, anchor *Anchor) (Report, error) {
	if err := l.authorize(ctx, "verify"); err != nil {
		return Report{}, fmt.Errorf("verify audit chain: %w", err)
	}
	rep, err := l.verify(ctx, anchor)
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

func (l *Log) verify(ctx context.Context, anchor *Anchor) (Report, error) {
	rep := Report{HeadHash: GenesisHash, Anchor: anchor}
	next := int64(1) // the seq the next event must have
	prev := GenesisHash
	keyed := false // a keyed event was seen: no unkeyed one may follow
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
			b := check(s, next, prev, l.opts.Keys)
			if b == nil && keyed && e.KeyID == "" {
				b = &Break{Seq: e.Seq, Problem: ProblemUnkeyed,
					Detail: fmt.Sprintf("event %d has no key id but earlier events are keyed: it was rewritten without the key", e.Seq)}
			}
			if b == nil && anchor != nil && e.Seq == anchor.Seq && e.Hash != anchor.Hash {
				b = &Break{Seq: e.Seq, Problem: ProblemAnchor,
					Detail: fmt.Sprintf("event %d is not the anchored head (hash %.12s…): the chain was rewritten", e.Seq, anchor.Hash)}
			}
			if b != nil {
				rep.Broken = b
				return rep, nil
			}
			keyed = keyed || e.KeyID != ""
			rep.Count++
			rep.HeadSeq, rep.HeadHash, rep.HeadKeyID = e.Seq, e.Hash, e.KeyID
			prev = e.Hash
			next++
		}
		if len(page) < l.opts.PageSize {
			if anchor != nil && rep.HeadSeq < anchor.Seq {
				rep.Broken = &Break{Seq: rep.HeadSeq + 1, Problem: ProblemTruncated,
					Detail: fmt.Sprintf("the chain ends at seq %d but the anchored head is seq %d: events %d..%d were deleted", rep.HeadSeq, anchor.Seq, rep.HeadSeq+1, anchor.Seq)}
				return rep, nil
			}
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
func check(s storedEvent, next int64, prev string, keys *Keyring) *Break {
	e := s.Event
	key := idKey(s.ID)
	want, herr := hashOf(keys, e)
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
	case errors.Is(herr, ErrUnknownKey):
		return &Break{Seq: key, Problem: ProblemUnknownKey,
			Detail: fmt.Sprintf("event %d names key %q, which the audit key file lacks", key, e.KeyID)}
	case want != e.Hash:
		return &Break{Seq: key, Problem: ProblemHashMismatch,
			Detail: fmt.Sprintf("event %d does not match its hash: its fields were changed", key)}
	case e.PrevHash != prev:
		return &Break{Seq: key, Problem: ProblemPrevMismatch,
			Detail: fmt.Sprintf("event %d does not chain to event %d: one of them was replaced", key, key-1)}
	}
	return nil
}

// hashOf is keys.Hash, with a nil keyring knowing no key.
func hashOf(keys *Keyring, e Event) (string, error) {
	if keys == nil {
		if e.KeyID != "" {
			return "", fmt.Errorf("%w: %q", ErrUnknownKey, e.KeyID)
		}
		return ComputeHash(e), nil
	}
	return keys.Hash(e)
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
