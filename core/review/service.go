package review

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
)

// Patients is the patient service as review uses it; *patient.Service
// implements it.
type Patients interface {
	Get(ctx context.Context, id string) (*patient.Patient, error)
	Candidates(ctx context.Context, in patient.Input, limit int) ([]patient.Candidate, error)
	ScoreAgainst(in patient.Input, id string) patient.Candidate
}

// Applier applies a reviewed record under the import rules: to an
// existing patient (patientID set: demographics the document states are
// taken, identifiers added) or as a new patient (patientID "": created
// with a generated MRN unless the record's own is free).
// *importer.Service implements it.
type Applier interface {
	ApplyReviewed(ctx context.Context, in patient.Input, patientID string) (*patient.Patient, error)
}

var _ Patients = (*patient.Service)(nil)

// maxCandidates bounds the candidates shown per item.
const maxCandidates = 5

// Service lists and resolves review items.
type Service struct {
	q        *Queue
	patients Patients
	apply    Applier
}

// New returns the service over q.
func New(q *Queue, patients Patients, apply Applier) *Service {
	return &Service{q: q, patients: patients, apply: apply}
}

// List returns the open items, oldest first (at most limit; <= 0 or
// more than 200: 200), each with its candidates.
func (s *Service) List(ctx context.Context, limit int) ([]Entry, error) {
	const action = "review.list"
	if err := authorize(ctx, s.q.aud, action, ""); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	items, err := s.q.open(ctx, limit)
	var out []Entry
	if err == nil {
		out = make([]Entry, 0, len(items))
		for _, it := range items {
			e, cerr := s.entry(ctx, it)
			if cerr != nil {
				err = cerr
				break
			}
			out = append(out, e)
		}
	}
	if aerr := record(ctx, s.q.aud, action, "", outcomeOf(err), fmt.Sprintf("results=%d", len(out))); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns one item with its candidates.
func (s *Service) Get(ctx context.Context, id string) (Entry, error) {
	const action = "review.read"
	if err := authorize(ctx, s.q.aud, action, id); err != nil {
		return Entry{}, err
	}
	it, err := s.q.get(ctx, id)
	var e Entry
	if err == nil {
		e, err = s.entry(ctx, it)
	}
	if aerr := record(ctx, s.q.aud, action, id, outcomeOf(err), ""); aerr != nil {
		return Entry{}, aerr
	}
	return e, err
}

// entry adds the candidates: the patients the identifiers point to and
// the scorer's likely duplicates, best first. A candidate that no longer
// exists (deleted, merged away) is left out.
func (s *Service) entry(ctx context.Context, it Item) (Entry, error) {
	e := Entry{Item: it, Candidates: []Candidate{}}
	if it.Status == StatusResolved {
		return e, nil
	}
	scored, err := s.patients.Candidates(ctx, it.Document, maxCandidates)
	if err != nil {
		return Entry{}, fmt.Errorf("review candidates: %w", err)
	}
	for _, id := range it.PatientIDs {
		if !slices.ContainsFunc(scored, func(c patient.Candidate) bool { return c.ID == id }) {
			scored = append(scored, s.patients.ScoreAgainst(it.Document, id))
		}
	}
	slices.SortStableFunc(scored, func(a, b patient.Candidate) int { return cmp.Compare(b.Score, a.Score) })
	for _, c := range scored {
		p, err := s.patients.Get(ctx, c.ID)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return Entry{}, fmt.Errorf("review candidate: %w", err)
		}
		e.Candidates = append(e.Candidates, Candidate{Candidate: c, Patient: p})
	}
	return e, nil
}

// ErrBadAction: the action is not one of same, new, reject.
var ErrBadAction = fault.Fields{{Field: "action", Message: "must be one of same (or merge), new, reject"}}

// Resolve records a reviewer's decision on an open item and carries it
// out: same (patientID required) applies the document to that patient;
// new creates a patient; reject applies nothing. It returns the item as
// resolved. A failed application leaves the item open.
func (s *Service) Resolve(ctx context.Context, id, action, patientID string) (Item, error) {
	const op = "review.resolve"
	if err := authorize(ctx, s.q.aud, op, id); err != nil {
		return Item{}, err
	}
	action = normalizeAction(action)
	it, err := s.resolve(ctx, id, action, strings.TrimSpace(patientID))
	if action != ActionSame && action != ActionNew && action != ActionReject {
		action = "invalid"
	}
	detail := "action=" + action
	if err == nil && it.PatientID != "" {
		detail += " patient=" + it.PatientID
	}
	if aerr := record(ctx, s.q.aud, op, id, outcomeOf(err), detail); aerr != nil {
		return Item{}, aerr
	}
	return it, err
}

func normalizeAction(a string) string {
	a = strings.ToLower(strings.TrimSpace(a))
	if a == ActionMerge {
		return ActionSame
	}
	return a
}

func (s *Service) resolve(ctx context.Context, id, action, patientID string) (Item, error) {
	switch action {
	case ActionSame:
		if patientID == "" {
			return Item{}, fmt.Errorf("resolve review item: %w", fault.Field("patient_id", "is required to resolve as the same person"))
		}
	case ActionNew, ActionReject:
		patientID = ""
	default:
		return Item{}, fmt.Errorf("resolve review item: %w", ErrBadAction)
	}
	it, err := s.q.get(ctx, id)
	if err != nil {
		return Item{}, err
	}
	if it.Status == StatusResolved {
		return Item{}, fmt.Errorf("resolve review item: %w", ErrResolved)
	}
	if err := s.q.claim(ctx, id); err != nil {
		return Item{}, err
	}
	if action != ActionReject {
		p, err := s.apply.ApplyReviewed(ctx, it.Document, patientID)
		if err != nil {
			if rerr := s.q.release(ctx, id); rerr != nil {
				return Item{}, errors.Join(err, rerr)
			}
			return Item{}, fmt.Errorf("resolve review item: %w", err)
		}
		patientID = p.ID
	}
	if err := s.q.finish(ctx, id, action, patientID); err != nil {
		return Item{}, err
	}
	return s.q.get(ctx, id)
}
