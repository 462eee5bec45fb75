// Package patients is the logic of the intent-patients plugin: it
// recognises patient-data questions ("show me all active patients",
// "how many churned this month?", "top 5 newest patients in Springfield
// without insurance") and status-change requests, and answers them.
//
// Data questions are answered with a patient-list query, not with patient
// records: the reply's data carries "query" (the patient list's URL query
// parameters) and a navigate action that opens the same filter in the
// patient list. The core's chat service runs the query against its
// patient directory as the user — with the user's permissions, audited —
// and fills data.patients (id and MRN) and data.total, replacing the
// placeholders {total} and {patients} of the reply. The plugin therefore
// never sees patient data for a data question (minimum necessary); only a
// status change by name looks a patient up through the host's
// patients:read operation.
//
// Imported by the plugin's main package and by tests; it is a plain Go
// package so it is unit-tested natively.
package patients

import (
	"context"

	"github.com/pfinni/pfinni/plugins/internal/nlu"
	"github.com/pfinni/pfinni/sdk"
)

// Intents this plugin declares in plugin-manifest.yaml.
const (
	IntentList      = "patients.list"
	IntentCount     = "patients.count"
	IntentSetStatus = "patients.set_status"
)

// Handler is the plugin's sdk.IntentHandler.
type Handler struct {
	// Now is the fallback clock when the host sends no "today".
	Now nlu.Clock
	// Vocab keeps the provider and city vocabularies between calls (the
	// plugin's instances are reused); nil builds them on every call.
	Vocab *nlu.VocabCache
}

var _ sdk.IntentHandler = Handler{}

// Match scores msg as a patient-data question or a status change.
func (h Handler) Match(_ context.Context, req sdk.MatchRequest) (sdk.MatchResult, error) {
	m := nlu.Parse(req.Message)
	intent, score := classify(m, nlu.Extract(m, h.Now.Now(), nlu.Vocabularies{}))
	if score == 0 {
		return sdk.MatchResult{}, nil
	}
	return sdk.MatchResult{Intent: intent, Score: score}, nil
}

// Handle answers a message Match claimed.
func (h Handler) Handle(ctx context.Context, req sdk.IntentRequest) (sdk.IntentReply, error) {
	host := sdk.HostContextFrom(req.Entities)
	today := nlu.Today(host, h.Now.Now)
	m := nlu.Parse(req.Message)
	q := nlu.Extract(m, today, h.Vocab.Of(host))
	switch req.Intent {
	case IntentList, IntentCount:
		if IsFollowUp(m) {
			return answerFollowUp(req.Intent, q, host.Previous, today), nil
		}
		return answerQuery(req.Intent, q, today), nil
	case IntentSetStatus:
		return setStatus(ctx, req, m, q)
	}
	return sdk.IntentReply{}, sdk.Errorf(sdk.CodeInvalidInput, "intent-patients does not serve intent %q", req.Intent)
}
