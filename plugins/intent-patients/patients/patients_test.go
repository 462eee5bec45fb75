package patients_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/intent-patients/patients"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/sdktest"
)

var now = func() time.Time { return time.Date(2026, 3, 18, 15, 0, 0, 0, time.UTC) }

var plug = sdk.Plugin{Name: "intent-patients", Intent: patients.Handler{Now: now}}

var host = map[string]any{"host": map[string]any{
	"today":     "2026-03-18",
	"providers": []map[string]string{{"id": "pr1", "name": "Dr. Olivia Chen"}},
	"cities":    []string{"Boston", "San Diego"},
}}

func match(t *testing.T, msg string) sdk.MatchResult {
	t.Helper()
	var m sdk.MatchResult
	require.NoError(t, sdktest.Call(context.Background(), plug, nil, sdk.HookIntentMatch, sdk.MatchRequest{Message: msg}, &m))
	return m
}

func handle(t *testing.T, h sdk.Host, intent, msg string, pc sdk.PageContext) (sdk.IntentReply, error) {
	var r sdk.IntentReply
	err := sdktest.Call(context.Background(), plug, h, sdk.HookIntentHandle, sdk.IntentRequest{Message: msg, Intent: intent, Context: pc, Entities: host}, &r)
	return r, err
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		msg    string
		intent string
	}{
		{"show me all active patients", patients.IntentList},
		{"how many churned this month?", patients.IntentCount},
		{"Upcoming Bithdays", patients.IntentList},
		{"who left us?", patients.IntentList},
		{"patients", patients.IntentList},
		{"all our patients", patients.IntentList},
		{"mark this patient as inactive", patients.IntentSetStatus},
		{"activate John Smith", patients.IntentSetStatus},
		{"churn this patient", patients.IntentSetStatus},
		{"make Ann Lee inactive", patients.IntentSetStatus},
		{"put Ann Lee on hold", patients.IntentSetStatus},
		{"please turn Ann Lee active", patients.IntentSetStatus},
		{"make a list of inactive patients", patients.IntentList},
		{"how many churned patients per week", patients.IntentCount + "?"},
		{"new patients per week", ""},
		{"how do I add a new patient?", ""},
		{"where can I see churned patients?", ""},
		{"who should have access to patient records", ""},
		{"tell me a joke", ""},
		{"who won the game", ""},
	} {
		m := match(t, tc.msg)
		switch {
		case tc.intent == "":
			assert.Less(t, m.Score, 0.5, tc.msg)
		case tc.intent[len(tc.intent)-1] == '?':
			assert.Less(t, m.Score, 0.9, tc.msg) // yields to insights
		default:
			assert.Equal(t, tc.intent, m.Intent, tc.msg)
			assert.GreaterOrEqual(t, m.Score, 0.5, tc.msg)
		}
	}
}

func TestHandleQueries(t *testing.T) {
	for _, tc := range []struct {
		intent, msg string
		query       url.Values
		reply       string
	}{
		{patients.IntentList, "active patients of dr chen in boston over 60 without insurance", url.Values{"status": {"active"}, "provider_id": {"pr1"}, "city": {"Boston"}, "age_min": {"61"}, "missing": {"insurance"}}, "I found {total} active {patients} of Dr. Olivia Chen in Boston aged 61 or older without insurance."},
		{patients.IntentCount, "how many churned this month?", url.Values{"status": {"churned"}, "status_changed_from": {"2026-03-01"}, "status_changed_to": {"2026-03-31"}}, "There are {total} churned {patients} whose status changed from 2026-03-01 to 2026-03-31."},
		{patients.IntentList, "top 5 newest patients", url.Values{"sort": {"-created_at"}, "limit": {"5"}}, "Here are the top 5: {patients}, newest first ({total} shown)."},
		{patients.IntentList, "upcoming birthdays", url.Values{"birthday_within_days": {"30"}, "sort": {"birthday"}}, ""},
		{patients.IntentList, "birthdays today", url.Values{"birthday_within_days": {"1"}, "sort": {"birthday"}}, "I found {total} {patients} with a birthday today, next birthday first."},
		{patients.IntentList, "find jonh smtih", url.Values{"q": {"jonh smtih"}}, ""},
		{patients.IntentList, "patients aged 30 to 40 in san deigo", url.Values{"age_min": {"30"}, "age_max": {"40"}, "city": {"San Diego"}}, ""},
		{patients.IntentList, "kids", url.Values{"age_max": {"17"}}, "I found {total} {patients} aged 17 or younger."},
		{patients.IntentList, "patients aged 40", url.Values{"age_min": {"40"}, "age_max": {"40"}}, ""},
		{patients.IntentList, "patients added before 2025", url.Values{"created_to": {"2024-12-31"}}, "I found {total} {patients} added before 2025-01-01."},
		{patients.IntentList, "patients updated after 2026-03-01", url.Values{"updated_from": {"2026-03-02"}}, "I found {total} {patients} updated after 2026-03-01."},
		{patients.IntentList, "patients updated yesterday", url.Values{"updated_from": {"2026-03-17"}, "updated_to": {"2026-03-17"}}, "I found {total} {patients} updated on 2026-03-17."},
		{patients.IntentList, "patients of dr zzyzx", url.Values{}, ""},
		{patients.IntentList, "patients in atlantis", url.Values{"city": {"atlantis"}}, ""},
	} {
		r, err := handle(t, nil, tc.intent, tc.msg, sdk.PageContext{})
		require.NoError(t, err, tc.msg)
		q, _ := url.ParseQuery(r.Data["query"].(string))
		if tc.msg == "patients of dr zzyzx" {
			assert.Contains(t, r.Reply, `I don't know a provider called "zzyzx"`)
			continue
		}
		assert.Equal(t, tc.query, q, tc.msg)
		if tc.reply != "" {
			assert.Equal(t, tc.reply, r.Reply, tc.msg)
		}
		require.Len(t, r.Actions, 1)
		assert.Equal(t, "navigate", r.Actions[0].Type)
		assert.NotEmpty(t, r.Suggestions)
	}
	_, err := handle(t, nil, "patients.nope", "x", sdk.PageContext{})
	assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
}

func TestHandleSetStatus(t *testing.T) {
	h := &sdktest.Host{Patients: []sdk.PatientSummary{
		{ID: "p1", MRN: "M1", FirstName: "Ann", LastName: "Lee", Status: "active"},
		{ID: "p2", MRN: "M2", FirstName: "Bob", LastName: "Stone", Status: "active"},
		{ID: "p3", MRN: "M3", FirstName: "Bob", LastName: "Stone", Status: "inactive"},
	}}
	pc := sdk.PageContext{Page: "/patients/p9", PatientID: "p9"}
	for _, tc := range []struct {
		msg    string
		pc     sdk.PageContext
		target string
		to     string
		reply  string
	}{
		{"mark this patient as inactive", pc, "p9", "inactive", "Change this patient's status to inactive? Please confirm."},
		{"churn this patient because moved away.", pc, "p9", "churned", ""},
		{"churn this patient", pc, "p9", "churned", "A reason is required"},
		{"deactivate this patient", pc, "p9", "inactive", ""},
		{"set Ann Lee to inactive", sdk.PageContext{}, "p1", "inactive", ""},
		{"set Bob Stone to inactive", sdk.PageContext{}, "", "", "2 patients match"},
		{"set Zed Quux to inactive", sdk.PageContext{}, "", "", "could not find"},
		// Every status verb finds the patient named after it, not only "set".
		{"change Ann Lee to inactive", sdk.PageContext{}, "p1", "inactive", ""},
		{"switch Ann Lee to churned", sdk.PageContext{}, "p1", "churned", ""},
		{"make Ann Lee inactive", sdk.PageContext{}, "p1", "inactive", ""},
		{"update the status of Ann Lee to inactive", sdk.PageContext{}, "p1", "inactive", ""},
		{"put Ann Lee on hold", sdk.PageContext{}, "p1", "inactive", ""},
		{"please turn Ann Lee active", sdk.PageContext{}, "p1", "active", ""},
		{"change the status", pc, "", "", "Which status"},
		{"mark as active", sdk.PageContext{}, "", "", "Which patient?"},
	} {
		r, err := handle(t, h, patients.IntentSetStatus, tc.msg, tc.pc)
		require.NoError(t, err, tc.msg)
		if tc.reply != "" {
			assert.Contains(t, r.Reply, tc.reply, tc.msg)
		}
		if tc.target == "" {
			assert.Empty(t, r.Actions, tc.msg)
			continue
		}
		require.Len(t, r.Actions, 1, tc.msg)
		a := r.Actions[0]
		assert.Equal(t, "set_status", a.Type)
		assert.True(t, a.Confirm)
		assert.Equal(t, tc.target, a.Target)
		assert.Equal(t, tc.to, a.Params["to"])
		assert.NotContains(t, r.Reply, "Ann", "no names in the reply")
	}
	// The host refusing patients:read is the plugin's answer.
	_, err := handle(t, &sdktest.Host{Capabilities: []string{}}, patients.IntentSetStatus, "set Ann Lee to inactive", sdk.PageContext{})
	assert.Equal(t, sdk.CodeCapabilityDenied, sdk.CodeOf(err))
	// A reason typed in the message is not carried: the host asks for it
	// at confirmation, so no free text travels with the offer.
	r, err := handle(t, nil, patients.IntentSetStatus, "churn because moved to Ohio", sdk.PageContext{PatientID: "p"})
	require.NoError(t, err)
	require.Len(t, r.Actions, 1)
	assert.Nil(t, r.Actions[0].Params["reason"])
	assert.Equal(t, true, r.Actions[0].Params["reason_required"])
}

func handleWith(t *testing.T, intent, msg string, pc sdk.PageContext, extra map[string]any) sdk.IntentReply {
	t.Helper()
	hc := map[string]any{}
	for k, v := range host["host"].(map[string]any) {
		hc[k] = v
	}
	for k, v := range extra {
		hc[k] = v
	}
	var r sdk.IntentReply
	require.NoError(t, sdktest.Call(context.Background(), plug, nil, sdk.HookIntentHandle, sdk.IntentRequest{Message: msg, Intent: intent, Context: pc, Entities: map[string]any{"host": hc}}, &r))
	return r
}

// Ticked rows: "move these to inactive" proposes the selection; the host
// composes the offer for exactly those patients.
func TestSetStatusOfSelection(t *testing.T) {
	r := handleWith(t, patients.IntentSetStatus, "move these to inactive", sdk.PageContext{Page: "patients"}, map[string]any{"selection": 3})
	require.Len(t, r.Actions, 1)
	assert.Equal(t, patients.TargetSelection, r.Actions[0].Target)
	assert.Equal(t, "inactive", r.Actions[0].Params["to"])
	assert.Contains(t, r.Reply, "3 selected")
}

// Follow-ups narrow the previous answer's filter.
func TestFollowUps(t *testing.T) {
	for _, tc := range []struct {
		prev, msg, intent, want string
	}{
		{"age_min=66", "only the active ones", patients.IntentList, "age_min=66&status=active"},
		{"status=active", "how many of them are over 65", patients.IntentCount, "age_min=66&status=active"},
		{"status=inactive", "show them", patients.IntentList, "status=inactive"},
		{"missing=insurance", "which of them have no email", patients.IntentList, "missing=insurance%2Cemail"},
		{"", "only the active ones", patients.IntentList, "status=active"},
	} {
		r := handleWith(t, tc.intent, tc.msg, sdk.PageContext{}, map[string]any{"previous": tc.prev})
		assert.Equal(t, tc.want, r.Data["query"], tc.msg)
	}
	r := handleWith(t, patients.IntentList, "show them", sdk.PageContext{}, nil)
	assert.Contains(t, r.Reply, "Which patients do you mean?")
	assert.Nil(t, r.Data["query"])
}
