package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/review"
)

// ResultNeedsReview is a file (or record) that waits in the identity
// review queue: pfinni would not decide on its own who it is.
const ResultNeedsReview = "needs_review"

// maxReviewCandidates bounds the scorer's candidates kept with an item.
const maxReviewCandidates = 5

// verdict is how a record relates to the patients held: the patient it
// is (nil: a new one), or why a person must decide.
type verdict struct {
	existing   *patient.Patient
	reason     string // a review.Reason*; "" when decided
	message    string
	patientIDs []string
}

// identify matches a record on its identifiers, compared by (system,
// value) and never by the value alone; then, for a record no identifier
// matched, asks the duplicate scorer. It decides only the clear cases:
// one patient holds the identifiers and looks like the same person
// (update), or nobody holds them and nobody looks alike (create).
// Everything else goes to review.
func (s *Service) identify(ctx context.Context, in patient.Input) (verdict, error) {
	if !patient.Matchable(in.Identifiers) {
		ids, err := s.candidateIDs(ctx, in)
		return verdict{reason: review.ReasonNoIdentifier, patientIDs: ids,
			message: "the record has no identifier with a system (OID or URI), so it cannot be matched safely; a person decides who it is"}, err
	}
	found, err := s.d.Patients.FindByIdentifiers(ctx, in.Identifiers)
	if err != nil {
		return verdict{}, fmt.Errorf("match patient by identifier: %w", err)
	}
	switch len(found) {
	case 0:
		ids, err := s.candidateIDs(ctx, in)
		if err != nil || len(ids) == 0 {
			return verdict{}, err
		}
		return verdict{reason: review.ReasonLikelyDuplicate, patientIDs: ids,
			message: "no patient has this record's identifiers, but a patient looks like the same person; a person decides whether it is"}, nil
	case 1:
		if c := conflicts(found[0], in); len(c) > 0 {
			return verdict{reason: review.ReasonIdentifierCollision, patientIDs: []string{found[0].ID},
				message: "the record's identifier belongs to a patient whose " + joinAnd(c) + " differ" + plural(c) + "; this looks like another person, so a person decides"}, nil
		}
		return verdict{existing: found[0]}, nil
	}
	ids := make([]string, len(found))
	for i, p := range found {
		ids[i] = p.ID
	}
	return verdict{reason: review.ReasonIdentifiersDisagree, patientIDs: ids,
		message: "the record's identifiers belong to different patients; a person decides which one it is"}, nil
}

func plural(ss []string) string {
	if len(ss) == 1 {
		return "s"
	}
	return ""
}

// candidateIDs returns the ids of the likely duplicates of in.
func (s *Service) candidateIDs(ctx context.Context, in patient.Input) ([]string, error) {
	cands, err := s.d.Patients.Candidates(ctx, in, maxReviewCandidates)
	if err != nil {
		return nil, fmt.Errorf("score duplicates: %w", err)
	}
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.ID
	}
	return ids, nil
}

// toReview sends a record to the review queue (or, without one, rejects
// it with the same reason).
func (s *Service) toReview(ctx context.Context, ro recordOutcome, f fileRow, format, ref string, in patient.Input, v verdict) (recordOutcome, error) {
	ro.patientID = ""
	if s.d.Review == nil {
		ro.result = ResultRejected
		ro.problems = append(ro.problems, errorAt(format, "identifiers", v.message))
		return ro, nil
	}
	_, err := s.d.Review.Add(ctx, review.Item{Reason: v.reason, Message: v.message, Source: in.Source, JobID: f.Job,
		FileID: f.Key, Format: format, Record: ref, Document: in, PatientIDs: v.patientIDs})
	if err != nil {
		return ro, fmt.Errorf("send record to review: %w", err)
	}
	ro.result = ResultNeedsReview
	ro.problems = append(ro.problems, warnAt(format, "identifiers", "waits for review: "+v.message))
	return ro, nil
}

// practiceMRN gives in a practice MRN: its own when valid-looking and
// free, else a generated one. The number another system gave a different
// patient of ours is never shared.
func (s *Service) practiceMRN(ctx context.Context, in *patient.Input) error {
	if in.MRN == "" {
		in.MRN = s.d.Patients.GenerateMRN()
		return nil
	}
	_, err := s.d.Patients.GetByMRN(ctx, in.MRN)
	switch {
	case err == nil:
		in.MRN = s.d.Patients.GenerateMRN()
	case !errors.Is(err, fault.ErrNotFound):
		return fmt.Errorf("check MRN: %w", err)
	}
	return nil
}

// ApplyReviewed carries out a reviewer's decision on a record (see
// review.Applier): with patientID, the document is applied to that
// patient under the import rules (what the document states replaces,
// nothing is cleared, identifiers are added); without, a new patient is
// created with a generated MRN (the document's numbers stay its
// identifiers).
func (s *Service) ApplyReviewed(ctx context.Context, in patient.Input, patientID string) (*patient.Patient, error) {
	for attempt := 0; attempt < 4; attempt++ {
		if patientID == "" {
			// The document's number stays among the identifiers; the
			// MRN is the practice's own.
			in.MRN = s.d.Patients.GenerateMRN()
			p, err := s.d.Patients.Create(ctx, in)
			if errors.Is(err, patient.ErrDuplicateMRN) {
				continue // taken meanwhile: pick again
			}
			if err != nil {
				return nil, fmt.Errorf("create reviewed patient: %w", err)
			}
			return p, nil
		}
		p, err := s.d.Patients.Get(ctx, patientID)
		if err != nil {
			return nil, fmt.Errorf("apply reviewed record: %w", err)
		}
		patch, changed := diff(p, in)
		if !changed {
			return p, nil
		}
		up, err := s.d.Patients.Update(ctx, p.ID, p.Version, patch)
		if errors.Is(err, patient.ErrStaleVersion) {
			continue
		}
		var fields fault.Fields
		if errors.As(err, &fields) {
			if _, fatal := dropInvalid(&in, fields, ""); !fatal {
				continue
			}
		}
		if err != nil {
			return nil, fmt.Errorf("apply reviewed record: %w", err)
		}
		return up, nil
	}
	return nil, fmt.Errorf("apply reviewed record: %w", fault.New(fault.ErrConflict, "the patient kept changing; try again"))
}
