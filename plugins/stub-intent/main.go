// Command stub-intent is a deterministic WASM intent handler for testers:
// fixed keyword rules, fixed replies, patient data through the host's
// patients:read operation.
//
//	"show me all <status> patients" -> patients.list  (data.patients, data.total)
//	"how many <status> patients"    -> patients.count (data.total)
//	"how do I add a new patient?"   -> nav.add_patient (a navigate action)
package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

var statuses = []string{"onboarding", "active", "inactive", "churned"}

type handler struct{}

func (handler) Match(_ context.Context, req sdk.MatchRequest) (sdk.MatchResult, error) {
	msg := strings.ToLower(req.Message)
	ent := map[string]any{}
	for _, s := range statuses {
		if strings.Contains(msg, s) {
			ent["status"] = s
		}
	}
	switch {
	case strings.Contains(msg, "how many") && strings.Contains(msg, "patient"):
		return sdk.MatchResult{Intent: "patients.count", Score: 0.9, Entities: ent}, nil
	case (strings.Contains(msg, "show") || strings.Contains(msg, "list")) && strings.Contains(msg, "patient"):
		return sdk.MatchResult{Intent: "patients.list", Score: 0.9, Entities: ent}, nil
	case strings.Contains(msg, "add") && strings.Contains(msg, "patient"):
		return sdk.MatchResult{Intent: "nav.add_patient", Score: 0.8}, nil
	}
	return sdk.MatchResult{Score: 0}, nil
}

func (handler) Handle(ctx context.Context, req sdk.IntentRequest) (sdk.IntentReply, error) {
	status, _ := req.Entities["status"].(string)
	out := sdk.IntentReply{Intent: req.Intent}
	switch req.Intent {
	case "patients.list", "patients.count":
		list, err := sdk.HostFrom(ctx).SearchPatients(ctx, sdk.PatientQuery{Status: status, Limit: 50})
		if err != nil {
			return out, err
		}
		label := strings.TrimSpace(status + " patients")
		if req.Intent == "patients.count" {
			out.Reply = fmt.Sprintf("There are %d %s.", list.Total, label)
			out.Data = map[string]any{"total": list.Total}
		} else {
			out.Reply = fmt.Sprintf("Here are the %s (%d).", label, list.Total)
			out.Data = map[string]any{"patients": list.Patients, "total": list.Total}
			out.Actions = []sdk.Action{{Type: "navigate", Label: "Open list", Target: "/patients", Params: map[string]any{"status": status}}}
		}
		out.Suggestions = []string{"how many churned patients?"}
	case "nav.add_patient":
		out.Reply = "Open Patients and choose Add patient; MRN, names and date of birth are required."
		out.Actions = []sdk.Action{{Type: "navigate", Label: "Add patient", Target: "/patients/new"}}
	default:
		return out, sdk.Errorf(sdk.CodeInvalidInput, "unknown intent %q", req.Intent)
	}
	return out, nil
}

func init() { wasm.Register(sdk.Plugin{Name: "stub-intent", Intent: handler{}}) }

func main() {}
