package insights_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/intent-insights/insights"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/sdktest"
)

var plug = sdk.Plugin{Name: "intent-insights", Intent: insights.Handler{Now: func() time.Time { return time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC) }}}

func stats(t *testing.T) json.RawMessage {
	st := insights.Stats{
		Total: 100, ByStatus: map[string]int{"active": 60, "onboarding": 15, "inactive": 15, "churned": 10},
		NewPerWeek:         []insights.Bucket{{Start: "2026-03-02", Count: 4}, {Start: "2026-03-09", Count: 5}, {Start: "2026-03-16", Count: 9}},
		NewPerMonth:        []insights.Bucket{{Start: "2026-01-01", Count: 20}, {Start: "2026-02-01", Count: 18}, {Start: "2026-03-01", Count: 4}},
		TransitionsPerWeek: []insights.Transitions{{Start: "2026-03-02", Counts: map[string]int{"active->churned": 2, "onboarding->active": 3}, Total: 5}, {Start: "2026-03-09", Counts: map[string]int{"inactive->churned": 1}, Total: 1}},
		UpcomingBirthdays:  7, BirthdayDays: 30, StuckOnboarding: 5, StuckDays: 14, Missing: map[string]int{"insurance": 12},
	}
	b, err := json.Marshal(st)
	require.NoError(t, err)
	return b
}

func TestMatch(t *testing.T) {
	for msg, want := range map[string]string{
		"give me a summary": insights.IntentSummary, "status breakdown": insights.IntentSummary, "how are we doing?": insights.IntentSummary,
		"new patients per week": insights.IntentTrend, "patient growth": insights.IntentTrend,
		"what's our churn rate?": insights.IntentChurn, "churn": insights.IntentChurn,
		"who is stuck in onboarding": insights.IntentOnboarding, "onboarding backlog": insights.IntentOnboarding,
		"show me all active patients": "", "how many churned this month": "",
	} {
		var m sdk.MatchResult
		require.NoError(t, sdktest.Call(context.Background(), plug, nil, sdk.HookIntentMatch, sdk.MatchRequest{Message: msg}, &m))
		assert.Equal(t, want, m.Intent, msg)
	}
}

func TestHandle(t *testing.T) {
	ents := map[string]any{"host": map[string]any{"today": "2026-03-18", "stats": stats(t)}}
	call := func(intent, msg string) sdk.IntentReply {
		var r sdk.IntentReply
		require.NoError(t, sdktest.Call(context.Background(), plug, nil, sdk.HookIntentHandle, sdk.IntentRequest{Message: msg, Intent: intent, Entities: ents}, &r))
		return r
	}
	r := call(insights.IntentSummary, "give me a summary")
	assert.Contains(t, r.Reply, "You have 100 patients: 60 active (60%), 15 in onboarding, 15 inactive and 10 churned.")
	assert.Contains(t, r.Reply, "5 have been in onboarding for more than 14 days")
	assert.Contains(t, r.Reply, "12 patients have no insurance")
	assert.NotNil(t, r.Data["chart"])

	r = call(insights.IntentTrend, "new patients per week")
	assert.Contains(t, r.Reply, "18 in total, 6.0 per week on average. This week so far: 9, above the average.")
	r = call(insights.IntentTrend, "new patients per month")
	assert.Contains(t, r.Reply, "per month")
	assert.Contains(t, r.Reply, "below")

	r = call(insights.IntentChurn, "churn this quarter")
	q, _ := url.ParseQuery(r.Data["query"].(string))
	assert.Equal(t, "2026-01-01", q.Get("status_changed_from"))
	assert.Equal(t, "2026-03-18", q.Get("status_changed_to"))
	assert.Contains(t, r.Reply, "Over the last 2 weeks 3 patients churned")
	r = call(insights.IntentChurn, "what's our churn rate?")
	q, _ = url.ParseQuery(r.Data["query"].(string))
	assert.Equal(t, "2026-03-04", q.Get("status_changed_from"))

	r = call(insights.IntentOnboarding, "who is stuck in onboarding")
	q, _ = url.ParseQuery(r.Data["query"].(string))
	assert.Equal(t, url.Values{"status": {"onboarding"}, "status_changed_to": {"2026-03-03"}, "sort": {"updated_at"}}, q)

	// Without figures, still an answer; bad figures and unknown intents are errors.
	var out sdk.IntentReply
	require.NoError(t, sdktest.Call(context.Background(), plug, nil, sdk.HookIntentHandle, sdk.IntentRequest{Message: "x", Intent: insights.IntentTrend}, &out))
	assert.Contains(t, out.Reply, "no new-patient figures")
	err := sdktest.Call(context.Background(), plug, nil, sdk.HookIntentHandle, sdk.IntentRequest{Intent: insights.IntentSummary, Entities: map[string]any{"host": map[string]any{"stats": "nope"}}}, &out)
	assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
	err = sdktest.Call(context.Background(), plug, nil, sdk.HookIntentHandle, sdk.IntentRequest{Intent: "insights.nope"}, &out)
	assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
}
