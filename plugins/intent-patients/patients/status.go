package patients

import (
	"context"
	"fmt"

	"github.com/pfinni/pfinni/plugins/internal/nlu"
	"github.com/pfinni/pfinni/sdk"
)

// verbStatus maps status verbs to the status they set.
var verbStatus = map[string]string{
	"activate": nlu.Active, "reactivate": nlu.Active, "deactivate": nlu.Inactive, "churn": nlu.Churned,
}

// TargetSelection is the set_status target meaning "the patients ticked
// on the page" (core/chat.TargetSelection).
const TargetSelection = "selection"

// setStatus offers a confirmed set_status action for the patient in
// context or the one the message names.
func setStatus(ctx context.Context, req sdk.IntentRequest, m nlu.Message, q nlu.Query) (sdk.IntentReply, error) {
	out := sdk.IntentReply{Intent: IntentSetStatus}
	to := ""
	if len(q.Statuses) > 0 {
		to = q.Statuses[len(q.Statuses)-1] // "from active to inactive": the last named
	}
	for _, w := range m.Norm {
		if s, ok := verbStatus[w]; ok && to == "" {
			to = s
		}
	}
	if to == "" {
		out.Reply = "Which status should the patient get: onboarding, active, inactive or churned?"
		out.Suggestions = []string{"mark as active", "mark as inactive", "mark as churned"}
		return out, nil
	}
	// Ticked rows: "move these to inactive" changes exactly those. The
	// host knows which (context.selection) and composes the offer.
	host := sdk.HostContextFrom(req.Entities)
	if host.Selection > 0 && (m.Has("these", "those", "them", "selected", "ticked", "checked", "all") || q.Name == "" && req.Context.PatientID == "") {
		out.Reply = fmt.Sprintf("Change the %d selected patients to %s? Please confirm.", host.Selection, to)
		out.Actions = []sdk.Action{{Type: "set_status", Label: "Set status to " + to, Target: TargetSelection, Params: map[string]any{"to": to}, Confirm: true}}
		return out, nil
	}
	id := req.Context.PatientID
	mentioned := q.Name != "" && !m.Has("this", "him", "her")
	if mentioned || id == "" {
		if q.Name == "" {
			out.Reply = "Which patient? Open the patient's page first, or tell me their name or MRN."
			return out, nil
		}
		list, err := sdk.HostFrom(ctx).SearchPatients(ctx, sdk.PatientQuery{Text: q.Name, Limit: 5})
		if err != nil {
			return out, err
		}
		switch {
		case list.Total == 0:
			out.Reply = "I could not find that patient. Check the spelling or search by MRN."
			return out, nil
		case list.Total > 1:
			out.Reply = fmt.Sprintf("%d patients match. Open the right one and ask again, or use the MRN.", list.Total)
			out.Data = map[string]any{"patients": refs(list.Patients), "total": list.Total}
			return out, nil
		}
		id = list.Patients[0].ID
	}
	// The host composes the confirmation (label, current status, version)
	// from its own data; a reason, when one is needed, is asked at
	// confirmation and never kept in the chat.
	label := "Set status to " + to
	params := map[string]any{"to": to}
	out.Reply = fmt.Sprintf("Change this patient's status to %s? Please confirm.", to)
	if to == nlu.Churned {
		out.Reply += " A reason is required for churn; you will be asked for it."
		params["reason_required"] = true
	}
	out.Actions = []sdk.Action{{Type: "set_status", Label: label, Target: id, Params: params, Confirm: true}}
	out.Data = map[string]any{"patients": []map[string]string{{"id": id}}, "total": 1}
	return out, nil
}

func refs(ps []sdk.PatientSummary) []map[string]string {
	out := make([]map[string]string, len(ps))
	for i, p := range ps {
		out[i] = map[string]string{"id": p.ID, "mrn": p.MRN}
	}
	return out
}
