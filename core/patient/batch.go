package patient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// MaxBatch is the most patients one CreateBatch takes.
const MaxBatch = 500

// ErrBatchSize: a batch of no items or more than MaxBatch (422).
var ErrBatchSize = fault.New(fault.ErrInvalid, "a batch holds from 1 to 500 patients")

// BatchItem is one patient of a batch and whether its caller saw the
// duplicate warning and creates it anyway.
type BatchItem struct {
	Input
	ConfirmDuplicate bool
}

// BatchResult is the outcome of one item: the new patient, or the error
// that refused it (a field error, a *DuplicateError, a taken MRN).
type BatchResult struct {
	Patient *Patient
	Err     error
}

// batchFanout bounds the audit events and observer calls of one batch in
// flight at once (the audit log stores concurrent events as one batch).
const batchFanout = 32

// CreateBatch creates many patients in one database transaction, as
// CreateChecked would one by one: each item is checked (fields, MRN —
// also against the batch's earlier items — and the duplicate warning
// unless confirmAll or the item confirms), each item's outcome is its
// own audit event, and the refused items do not stop the others. The
// results are in the items' order. It fails as a whole only when the
// caller may not create patients, the batch is empty or too large, or
// an audit event could not be stored; a chunk the database refused is
// an error on each of its items (503 in the API).
func (s *Service) CreateBatch(ctx context.Context, items []BatchItem, confirmAll bool) ([]BatchResult, error) {
	const action = "patient.create"
	if err := s.authorize(ctx, action, "patient", "", false); err != nil {
		return nil, err
	}
	if len(items) == 0 || len(items) > MaxBatch {
		return nil, fieldErr("create patients", ErrBatchSize, "items", fmt.Sprintf("send from 1 to %d patients per batch", MaxBatch))
	}
	out := make([]BatchResult, len(items))
	details := make([]string, len(items))
	var ok []int
	mrns := map[string]int{}
	for i, it := range items {
		p, err := s.prepared(ctx, it.Input)
		if err == nil {
			if _, taken := mrns[p.MRN]; taken {
				err = fieldErr("create patient", ErrDuplicateMRN, "mrn", "another patient of this batch has this MRN")
			}
		}
		if err == nil {
			cands := s.visibleCandidates(ctx, s.candidates(it.Input, 10))
			switch {
			case len(cands) > 0 && !confirmAll && !it.ConfirmDuplicate:
				err = fmt.Errorf("create patient: %w", &DuplicateError{Candidates: cands})
				details[i] = fmt.Sprintf("likely_duplicate candidates=%d", len(cands))
			case len(cands) > 0:
				details[i] = fmt.Sprintf("confirm_duplicate candidates=%d", len(cands))
			}
		}
		if err != nil {
			out[i].Err = err
			continue
		}
		mrns[p.MRN] = i
		out[i].Patient = p
		ok = append(ok, i)
	}
	s.insertBatch(ctx, out, ok)
	if err := s.auditBatch(ctx, action, out, details); err != nil {
		return nil, err
	}
	s.fanout(len(out), func(i int) {
		if p := out[i].Patient; p != nil {
			s.notify(ctx, Committed{Action: CommittedCreate, PatientID: p.ID, Version: p.Version})
		}
	})
	for i := range out {
		if out[i].Patient != nil {
			out[i].Patient = out[i].Patient.clone()
		}
	}
	return out, nil
}

// insertChunk is the number of items per transaction of a batch; a
// batch's chunks are written concurrently (the engine runs statements on
// every core, and one large transaction runs on one).
const insertChunk = 100

// insertBatch stores the prepared patients of out at ok with their first
// history rows, each chunk of insertChunk items in one transaction (an
// item's rows are always in one). When another writer took one of a
// chunk's MRNs meanwhile, that chunk fails as a whole, and its items are
// then created one by one so that only that one is refused. A chunk the
// database refused otherwise leaves the error on each of its items.
func (s *Service) insertBatch(ctx context.Context, out []BatchResult, ok []int) {
	now := s.opt.now().UTC()
	who := actor.From(ctx).UserID
	var chunks [][]int
	for lo := 0; lo < len(ok); lo += insertChunk {
		chunks = append(chunks, ok[lo:min(lo+insertChunk, len(ok))])
	}
	var wg sync.WaitGroup
	for _, chunk := range chunks {
		wg.Go(func() { s.insertChunk(ctx, out, chunk, now, who) })
	}
	wg.Wait()
}

func (s *Service) insertChunk(ctx context.Context, out []BatchResult, ok []int, now time.Time, who string) {
	ps := make([]map[string]any, 0, len(ok))
	scs := make([]map[string]any, 0, len(ok))
	hs := make([]map[string]any, 0, len(ok))
	for _, i := range ok {
		p := out[i].Patient
		p.ID = newID("p_")
		p.Version = 1
		p.CreatedAt, p.UpdatedAt, p.StatusChangedAt = now, now, now
		ps = append(ps, p.doc())
		scs = append(scs, StatusChange{PatientID: p.ID, To: p.Status, Reason: "created", Actor: who, At: now}.doc())
		hs = append(hs, Change{PatientID: p.ID, Version: 1, Action: "create", Fields: setFields(p), Actor: who, Source: p.Source, At: now}.doc())
	}
	err := s.db.Exec(ctx, `BEGIN;
INSERT INTO patient $ps RETURN NONE;
INSERT INTO status_change $scs RETURN NONE;
INSERT INTO patient_history $hs RETURN NONE;
COMMIT;`, map[string]any{"ps": ps, "scs": scs, "hs": hs})
	switch {
	case err == nil:
		s.dir.apply(func(st *state) {
			for _, i := range ok {
				st.upsert(out[i].Patient)
			}
		})
	case errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrTxConflict):
		for _, i := range ok {
			p, err := s.insert(ctx, out[i].Patient)
			out[i] = BatchResult{Patient: p, Err: err}
		}
	default:
		err = s.dbErr("create patients", err)
		for _, i := range ok {
			out[i] = BatchResult{Err: err}
		}
	}
}

// auditBatch records each item's outcome (concurrently: the audit log
// writes events that arrive together as one batch).
func (s *Service) auditBatch(ctx context.Context, action string, out []BatchResult, details []string) error {
	errs := make([]error, len(out))
	s.fanout(len(out), func(i int) {
		id, detail, err := "", details[i], out[i].Err
		if out[i].Patient != nil {
			id = out[i].Patient.ID
		}
		outcome := outcomeOf(err)
		var dup *DuplicateError
		switch {
		case errors.As(err, &dup): // as CreateChecked records a warning
			outcome = audit.OutcomeFailure
		case err != nil:
			detail = failureDetail(err)
		}
		errs[i] = s.record(ctx, action, "patient", id, outcome, detail)
	})
	return errors.Join(errs...)
}

// fanout calls f(0..n-1), batchFanout at a time, and waits.
func (s *Service) fanout(n int, f func(i int)) {
	sem := make(chan struct{}, batchFanout)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
}
