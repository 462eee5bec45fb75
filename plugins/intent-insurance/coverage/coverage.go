// Package coverage answers the assistant's insurance questions ("is
// Jane Doe covered?", "check insurance for Jane Doe", "check eligibility
// for this patient") with the eligibility check offered as a
// check_eligibility button, which the host runs as the user when it is
// pressed and answers with the result in the chat panel. It claims only questions about one patient's
// coverage, never patient-list questions such as "patients without
// insurance" (intent-patients). Replies never repeat a name or MRN.
package coverage

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/pfinni/pfinni/sdk"
)

// IntentCheck is the one intent this plugin serves.
const IntentCheck = "insurance.check"

// Handler is the intent handler.
type Handler struct{}

var _ sdk.IntentHandler = Handler{}

// patterns capture the patient the question is about (possibly "this
// patient" or nothing, meaning the patient page open).
var patterns = []*regexp.Regexp{
	regexp.MustCompile(`^(?:is|are) (.+?) (?:still |currently )?(?:covered|insured)(?: today| now)?$`),
	regexp.MustCompile(`^(?:please )?(?:check|verify|run)(?: an?| the)? (?:insurance|eligibility|coverage)(?: eligibility| coverage)?(?: check)?(?:(?: for| of| on) (.+))?$`),
	regexp.MustCompile(`^(?:does|do) (.+?) (?:still )?have (?:active |valid )?(?:insurance|coverage)(?: coverage)?$`),
}

// here names the patient whose page is open.
var here = map[string]bool{"": true, "this patient": true, "the patient": true, "him": true, "her": true, "them": true,
	"this one": true, "he": true, "she": true, "they": true, "this person": true}

// subject returns who msg asks about, and whether it is an insurance
// check question at all.
func subject(msg string) (string, bool) {
	m := strings.ToLower(strings.TrimSpace(msg))
	m = strings.TrimRight(m, "?!. ")
	m = strings.Join(strings.Fields(m), " ")
	for _, p := range patterns {
		if g := p.FindStringSubmatch(m); g != nil {
			who := strings.TrimSpace(g[1])
			if strings.HasPrefix(who, "patients") || strings.Contains(who, " patients") {
				return "", false // a list question
			}
			return who, true
		}
	}
	return "", false
}

// Match claims single-patient coverage questions.
func (Handler) Match(_ context.Context, req sdk.MatchRequest) (sdk.MatchResult, error) {
	if _, ok := subject(req.Message); !ok {
		return sdk.MatchResult{}, nil
	}
	return sdk.MatchResult{Intent: IntentCheck, Score: 0.9}, nil
}

// Handle finds the patient and proposes the check (the host composes the
// offer from its own reading of the patient).
func (Handler) Handle(ctx context.Context, req sdk.IntentRequest) (sdk.IntentReply, error) {
	if req.Intent != IntentCheck {
		return sdk.IntentReply{}, sdk.Errorf(sdk.CodeInvalidInput, "intent-insurance does not serve intent %q", req.Intent)
	}
	who, _ := subject(req.Message)
	out := sdk.IntentReply{Intent: IntentCheck}
	id, mrn := "", ""
	if here[who] {
		if req.Context.PatientID == "" {
			out.Reply = "Which patient? Open the patient's page first, or tell me their name or MRN."
			return out, nil
		}
		id = req.Context.PatientID
	} else {
		list, err := sdk.HostFrom(ctx).SearchPatients(ctx, sdk.PatientQuery{Text: who, Limit: 5})
		if err != nil {
			return out, err
		}
		switch {
		case list.Total == 0:
			out.Reply = "I could not find that patient. Check the spelling or search by MRN."
			return out, nil
		case list.Total > 1:
			out.Reply = fmt.Sprintf("%d patients match. Open the right one and press Check eligibility there, or ask again with the MRN.", list.Total)
			refs := make([]map[string]string, len(list.Patients))
			for i, p := range list.Patients {
				refs[i] = map[string]string{"id": p.ID, "mrn": p.MRN}
			}
			out.Data = map[string]any{"patients": refs, "total": list.Total}
			return out, nil
		}
		id, mrn = list.Patients[0].ID, list.Patients[0].MRN
	}
	// The host keeps the patient id, words the button and runs the check
	// as the user when it is pressed; the answer shows in the panel.
	out.Reply = "I can ask this patient's insurer now whether they are covered: press Check eligibility."
	out.Actions = []sdk.Action{{Type: sdk.ActionCheckEligibility, Label: "Check eligibility", Target: id}}
	ref := map[string]string{"id": id}
	if mrn != "" {
		ref["mrn"] = mrn
	}
	out.Data = map[string]any{"patients": []map[string]string{ref}, "total": 1}
	return out, nil
}
