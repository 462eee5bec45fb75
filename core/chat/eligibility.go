package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/eligibility"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/sdk"
)

// ActionCheckEligibility asks a patient's insurer whether they are
// covered; run here, as the user, when the button is pressed.
const ActionCheckEligibility = sdk.ActionCheckEligibility

// IntentCheckEligibility is the intent of the answer to a pressed
// check_eligibility button.
const IntentCheckEligibility = "action." + ActionCheckEligibility

// Eligibility runs insurance eligibility checks (core/eligibility) as
// the user in ctx; the service authorizes, audits and stores each check.
type Eligibility interface {
	Check(ctx context.Context, patientID string) (eligibility.Check, error)
}

// eligibilityOffer is what a check_eligibility action will do: ask the
// insurer of Patient (a record id). Nothing else is kept.
type eligibilityOffer struct {
	Patient string `json:"patient"`
}

// eligibilityLabel is the button's text, the server's own.
const eligibilityLabel = "Check eligibility"

// composeEligibilityOffer builds a check_eligibility offer for the
// patient the plugin named, read as the user (authorised and audited).
// A nil offer means there is nothing to press; note then says why and
// alt may hold what to do instead (open the patient's form).
func (s *Service) composeEligibilityOffer(ctx context.Context, act Action) (*eligibilityOffer, string, []Action, error) {
	id := act.Target
	if id == "" || !recordKey(id) {
		return nil, "Which patient? Open the patient's page first, or tell me their name or MRN.", nil, nil
	}
	if s.d.Eligibility == nil {
		return nil, "Insurance checks are not available here; open the patient's page to see their insurance.",
			[]Action{{Type: ActionNavigate, Label: "Open patient", Target: "/patients/" + id}}, nil
	}
	p, err := s.d.Patients.Get(ctx, id)
	switch {
	case errors.Is(err, patient.ErrNotFound):
		return nil, "I could not find that patient. Check the spelling or search by MRN.", nil, nil
	case err != nil:
		return nil, "", nil, fmt.Errorf("offer eligibility check: %w", err)
	}
	if strings.TrimSpace(p.Insurance.Payer) == "" || strings.TrimSpace(p.Insurance.MemberID) == "" {
		return nil, "This patient has no insurance payer or member id on file, so the insurer cannot be asked. Add them on the patient's form first.",
			[]Action{{Type: ActionNavigate, Label: "Edit patient", Target: "/patients/" + p.ID + "/edit"}}, nil
	}
	return &eligibilityOffer{Patient: p.ID}, "", nil, nil
}

// action is the offer as the panel gets it.
func (o *eligibilityOffer) action(id string) Action {
	return Action{ID: id, Type: ActionCheckEligibility, Label: eligibilityLabel, Target: o.Patient,
		Params: map[string]any{"patient": "patient:" + o.Patient}}
}

func (o *eligibilityOffer) patientData() map[string]any {
	return map[string]any{"patients": []map[string]string{{"ref": "patient:" + o.Patient, "id": o.Patient}}, "total": 1}
}

// eligibilityQuestion is the offer's reply, the server's own words.
const eligibilityQuestion = "I can ask this patient's insurer now whether they are covered today: press Check eligibility. The answer shows here."

// confirmEligibility runs a claimed check_eligibility action: the check
// runs through the eligibility service as the user, and the answer is
// the result. A failed adapter leaves the action open (press again);
// a timeout is a result (status error, the reason in plain words).
func (s *Service) confirmEligibility(ctx context.Context, a actor.Actor, id string, act actionRow) (Reply, error) {
	var offer eligibilityOffer
	if err := json.Unmarshal([]byte(act.Params), &offer); err != nil || offer.Patient == "" || !recordKey(offer.Patient) {
		s.finishAction(ctx, id, "failed")
		return Reply{}, fault.New(fault.ErrInvalid, "this action cannot be run; ask again")
	}
	if s.d.Eligibility == nil {
		s.finishAction(ctx, id, "failed")
		return Reply{}, fmt.Errorf("confirm eligibility check: %w", eligibility.ErrAdapter)
	}
	c, err := s.d.Eligibility.Check(ctx, offer.Patient)
	switch {
	case err == nil, errors.Is(err, eligibility.ErrTimeout) && c.ID != "":
	case errors.Is(err, eligibility.ErrAdapter):
		// Not used up: the adapter may be back in a moment.
		s.finishAction(ctx, id, "pending")
		return Reply{}, fmt.Errorf("confirm eligibility check: %w", err)
	default:
		s.finishAction(ctx, id, "failed")
		return Reply{}, fmt.Errorf("confirm eligibility check: %w", err)
	}
	out := Reply{ID: newID(), At: s.stamp(), Intent: IntentCheckEligibility, Reply: eligibilityText(c)}
	out.Data = map[string]any{
		"patients":    []map[string]string{{"ref": "patient:" + offer.Patient, "id": offer.Patient}},
		"total":       1,
		"eligibility": eligibilityData(c),
	}
	out.Actions = []Action{{Type: ActionNavigate, Label: "Open patient", Target: "/patients/" + offer.Patient + "#eligibility"}}
	if err := s.store(ctx, a, exchange{session: "default", userText: "(confirmed: " + act.Type + ")", trusted: true, reply: out}); err != nil {
		return Reply{}, err
	}
	return out, nil
}

// eligibilityText is the answer's text: the status in plain words, from
// a fixed template (no payer, plan or member id: the text is stored).
func eligibilityText(c eligibility.Check) string {
	switch c.Status {
	case "active":
		return "Covered: the insurer says this patient's coverage is active."
	case "inactive":
		return "Not covered: the insurer says this patient's coverage is inactive."
	case "not_found":
		return "The insurer did not find this patient. Check the member id, name and date of birth on file."
	}
	if c.Rejection.Busy() && c.RetryAt != nil {
		return "No answer yet: the insurer is busy; pfinni will ask again and show the result on the patient's page."
	}
	return "No answer from the insurer; the reason is below. Nothing was changed."
}

// eligibilityData is the result as the panel draws it (live replies
// only: the history keeps the check's id, status and patient reference).
func eligibilityData(c eligibility.Check) map[string]any {
	d := map[string]any{
		"check": c.ID, "ref": "patient:" + c.PatientID, "status": c.Status, "label": c.StatusLabel(),
		"payer": c.Payer, "plan": c.Plan,
		"coverage":   map[string]string{"start": c.Coverage.Start, "end": c.Coverage.End},
		"checked_at": c.CheckedAt.UTC().Format(time.RFC3339),
	}
	var benefits []map[string]string
	for _, b := range c.Benefits {
		if sum := b.Summary(); sum != "" && len(benefits) < 8 {
			benefits = append(benefits, map[string]string{"description": b.Description, "coverage_level": b.CoverageLevel, "summary": sum})
		}
	}
	d["benefits"] = benefits
	if c.Rejection != nil {
		d["rejection"] = map[string]string{"code": c.Rejection.Code, "reason": c.Rejection.Reason, "follow_up": c.Rejection.FollowUp}
	}
	if c.RetryAt != nil {
		d["retry_at"] = c.RetryAt.UTC().Format(time.RFC3339)
	}
	return d
}

// storedEligibility keeps of a check's result the check's id, its status
// and the patient's reference; the panel fetches the rest as the user.
func storedEligibility(v any) map[string]any {
	m, _ := v.(map[string]any)
	id, _ := m["check"].(string)
	st, _ := m["status"].(string)
	ref, _ := m["ref"].(string)
	pid, isPatient := strings.CutPrefix(ref, "patient:")
	switch {
	case id == "" || !recordKey(id), !isPatient || pid == "" || !recordKey(pid):
		return nil
	case st != "active" && st != "inactive" && st != "not_found" && st != "error":
		return nil
	}
	return map[string]any{"check": id, "status": st, "ref": ref}
}
