package coverage

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/sdktest"
)

func TestMatchOnlySinglePatientCoverageQuestions(t *testing.T) {
	claimed := []string{"Is Jane Doe covered?", "is jane doe insured", "check insurance for Jane Doe", "Check eligibility for this patient",
		"verify coverage of Doe", "does Jane Doe have insurance?", "check insurance", "is she covered?", "run an eligibility check for MRN-12"}
	for _, m := range claimed {
		r, err := Handler{}.Match(context.Background(), sdk.MatchRequest{Message: m})
		require.NoError(t, err)
		assert.Equal(t, IntentCheck, r.Intent, m)
		assert.Equal(t, 0.9, r.Score, m)
	}
	// Patient-list questions belong to intent-patients (testdata/chat/eval.jsonl).
	left := []string{"patients without insurance", "uninsured patients", "how many patients have no insurance",
		"Patients With No Insurance", "are the patients in Boston covered", "show me all active patients", "what is covered by HIPAA?"}
	for _, m := range left {
		r, err := Handler{}.Match(context.Background(), sdk.MatchRequest{Message: m})
		require.NoError(t, err)
		assert.Zero(t, r.Score, m)
	}
}

func TestHandleProposesTheCheck(t *testing.T) {
	host := &sdktest.Host{Capabilities: []string{sdk.CapPatientsRead}, Patients: []sdk.PatientSummary{
		{ID: "p1", MRN: "MRN-1", FirstName: "Jane", LastName: "Doe"},
		{ID: "p2", MRN: "MRN-2", FirstName: "John", LastName: "Roe"},
		{ID: "p3", MRN: "MRN-3", FirstName: "Joan", LastName: "Roe"},
	}}
	plugin := sdk.Plugin{Name: "intent-insurance", Intent: Handler{}}
	ask := func(msg, page string) sdk.IntentReply {
		var reply sdk.IntentReply
		require.NoError(t, sdktest.Call(context.Background(), plugin, host, sdk.HookIntentHandle,
			sdk.IntentRequest{Intent: IntentCheck, Message: msg, Context: sdk.PageContext{PatientID: page}}, &reply))
		return reply
	}

	r := ask("is Jane Doe covered?", "")
	require.Len(t, r.Actions, 1)
	assert.Equal(t, sdk.Action{Type: sdk.ActionCheckEligibility, Label: "Check eligibility", Target: "p1"}, r.Actions[0])
	assert.NotContains(t, r.Reply, "Jane")
	assert.NotContains(t, r.Reply, "MRN-1")

	r = ask("check eligibility for this patient", "p9")
	require.Len(t, r.Actions, 1)
	assert.Equal(t, "p9", r.Actions[0].Target, "the patient page open")

	r = ask("check insurance", "")
	assert.Empty(t, r.Actions)
	assert.Contains(t, r.Reply, "Which patient?")

	r = ask("is Roe covered", "")
	assert.Empty(t, r.Actions)
	assert.EqualValues(t, 2, r.Data["total"])

	r = ask("is Nobody Known covered", "")
	assert.Empty(t, r.Actions)
	assert.Contains(t, r.Reply, "could not find")

	err := sdktest.Call(context.Background(), plugin, host, sdk.HookIntentHandle, sdk.IntentRequest{Intent: "other"}, &r)
	assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
}
