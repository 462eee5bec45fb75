// Package insights is the logic of the intent-insights plugin: summaries
// and trends of the practice's patients — counts by status, new patients
// per week or month, churn in a period, the onboarding backlog and the
// patients stuck in onboarding longer than 14 days — as text plus data for
// a small chart.
//
// The figures are aggregates the core passes in the host context
// (sdk.HostContext.Stats, the patient directory's Stats); lists of
// patients ("who is stuck in onboarding?") are answered with a patient
// list query the core runs as the user, like intent-patients does. The
// plugin never sees a patient record.
package insights

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pfinni/pfinni/plugins/internal/nlu"
	"github.com/pfinni/pfinni/sdk"
)

// Intents this plugin declares.
const (
	IntentSummary    = "insights.summary"
	IntentTrend      = "insights.trend"
	IntentChurn      = "insights.churn"
	IntentOnboarding = "insights.onboarding"
)

// StuckDays is how long in onboarding counts as stuck.
const StuckDays = 14

// Stats are the figures the core sends in sdk.HostContext.Stats.
type Stats = sdk.PatientStats

// Bucket and Transitions are Stats' series (the SDK's types).
type (
	Bucket      = sdk.CountBucket
	Transitions = sdk.TransitionBucket
)

// Handler is the plugin's sdk.IntentHandler.
type Handler struct {
	Now nlu.Clock // fallback when the host sends no "today"
}

var _ sdk.IntentHandler = Handler{}

// Match scores a message as an insights question.
func (h Handler) Match(_ context.Context, req sdk.MatchRequest) (sdk.MatchResult, error) {
	m := nlu.Parse(req.Message)
	intent, score := classify(m)
	return sdk.MatchResult{Intent: intent, Score: score}, nil
}

func classify(m nlu.Message) (string, float64) {
	trend := m.Has("per", "each", "weekly", "monthly", "trend", "trends", "trending", "growth", "grow", "growing") ||
		m.AnyPhrase("over time", "week by week", "month by month")
	switch {
	case m.Has("stuck", "backlog") || m.AnyPhrase("waiting in onboarding", "onboarding queue"):
		return IntentOnboarding, 0.95
	case m.Has("churn", "churning", "retention", "attrition") && (trend || m.Has("rate", "quarter", "month", "year", "week") || m.AnyPhrase("how is", "how's")):
		return IntentChurn, 0.95
	case m.Has("churn") && !m.Has("show", "list", "find", "who", "which") && !m.AnyPhrase("how many"):
		return IntentChurn, 0.8
	case trend && (m.Has("new", "patients", "patient", "signups", "added", "registrations", "intake") || m.Has("growth")):
		return IntentTrend, 0.95
	case m.Has("summary", "summarize", "summarise", "overview", "breakdown", "statistics", "stats", "figures", "numbers", "kpis", "kpi") ||
		m.AnyPhrase("how are we doing", "how is the practice doing", "by status", "at a glance", "state of the practice"):
		return IntentSummary, 0.95
	}
	return "", 0
}

// Handle answers an insights question.
func (h Handler) Handle(_ context.Context, req sdk.IntentRequest) (sdk.IntentReply, error) {
	host, err := sdk.ParseHostContext(req.Entities)
	if err != nil {
		return sdk.IntentReply{}, err
	}
	today := nlu.Today(host, h.Now.Now)
	var st Stats
	if host.Stats != nil {
		st = *host.Stats
	}
	m := nlu.Parse(req.Message)
	switch req.Intent {
	case IntentSummary:
		return summary(st), nil
	case IntentTrend:
		return trend(st, m.Has("month", "months", "monthly")), nil
	case IntentChurn:
		return churn(st, m, today), nil
	case IntentOnboarding:
		return onboarding(st, today), nil
	}
	return sdk.IntentReply{}, sdk.Errorf(sdk.CodeInvalidInput, "intent-insights does not serve intent %q", req.Intent)
}

func pct(n, of int) string {
	if of == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(of))
}

func summary(st Stats) sdk.IntentReply {
	b := st.ByStatus
	text := fmt.Sprintf("You have %d patients: %d active (%s), %d in onboarding, %d inactive and %d churned.",
		st.Total, b["active"], pct(b["active"], st.Total), b["onboarding"], b["inactive"], b["churned"])
	if st.StuckOnboarding > 0 {
		text += fmt.Sprintf(" %d have been in onboarding for more than %d days.", st.StuckOnboarding, StuckDays)
	}
	if st.UpcomingBirthdays > 0 {
		text += fmt.Sprintf(" %d birthdays in the next %d days.", st.UpcomingBirthdays, max(st.BirthdayDays, 30))
	}
	if n := st.Missing["insurance"]; n > 0 {
		text += fmt.Sprintf(" %d patients have no insurance on file.", n)
	}
	labels := nlu.Statuses()
	values := make([]int, len(labels))
	for i, s := range labels {
		values[i] = b[s]
	}
	var sugg []string
	if st.StuckOnboarding > 0 {
		sugg = append(sugg, "who is stuck in onboarding?")
	}
	sugg = append(sugg, "new patients per week", "what's our churn rate?")
	return sdk.IntentReply{
		Intent: IntentSummary, Reply: text,
		Data: map[string]any{
			"chart": map[string]any{"type": "bar", "title": "Patients by status", "labels": labels, "values": values},
			"stats": map[string]any{"total": st.Total, "by_status": b, "stuck_onboarding": st.StuckOnboarding, "upcoming_birthdays": st.UpcomingBirthdays},
		},
		Actions:     []sdk.Action{{Type: "navigate", Label: "Open the dashboard", Target: "/"}},
		Suggestions: sugg,
	}
}

func trend(st Stats, monthly bool) sdk.IntentReply {
	buckets, unit := st.NewPerWeek, "week"
	if monthly {
		buckets, unit = st.NewPerMonth, "month"
	}
	labels := make([]string, len(buckets))
	values := make([]int, len(buckets))
	sum := 0
	for i, b := range buckets {
		labels[i], values[i] = b.Start, b.Count
		sum += b.Count
	}
	text := "I have no new-patient figures yet."
	if n := len(buckets); n > 0 {
		avg := float64(sum) / float64(n)
		last := values[n-1]
		dir := "about the same as"
		switch {
		case float64(last) > avg*1.2:
			dir = "above"
		case float64(last) < avg*0.8:
			dir = "below"
		}
		text = fmt.Sprintf("New patients per %s over the last %d %ss: %d in total, %.1f per %s on average. This %s so far: %d, %s the average.",
			unit, n, unit, sum, avg, unit, unit, last, dir)
	}
	return sdk.IntentReply{
		Intent: IntentTrend, Reply: text,
		Data:        map[string]any{"chart": map[string]any{"type": "line", "title": "New patients per " + unit, "labels": labels, "values": values}},
		Suggestions: []string{"new patients this month", "give me a summary", "what's our churn rate?"},
	}
}

func churn(st Stats, m nlu.Message, today time.Time) sdk.IntentReply {
	labels := make([]string, len(st.TransitionsPerWeek))
	values := make([]int, len(st.TransitionsPerWeek))
	sum := 0
	for i, w := range st.TransitionsPerWeek {
		n := 0
		for k, c := range w.Counts {
			if strings.HasSuffix(k, "->churned") {
				n += c
			}
		}
		labels[i], values[i] = w.Start, n
		sum += n
	}
	// The period asked for, or the last 12 weeks.
	from, to, period := today.AddDate(0, 0, -7*len(values)), today, fmt.Sprintf("in the last %d weeks", len(values))
	if d, ok := nlu.FindDate(m, today, nil); ok && !d.From.IsZero() {
		from, to = d.From, d.To
		if to.IsZero() || to.After(today) {
			to = today
		}
		period = "from " + from.Format(time.DateOnly) + " to " + to.Format(time.DateOnly)
	}
	active := st.ByStatus["active"] + st.ByStatus["inactive"] + st.ByStatus["onboarding"]
	text := fmt.Sprintf("{total} %s churned %s. Over the last %d weeks %d patients churned; %d are churned in all (%s of %d patients).",
		"{patients}", period, len(values), sum, st.ByStatus["churned"], pct(st.ByStatus["churned"], st.Total), st.Total)
	_ = active
	q := url.Values{sdk.FilterStatus: {"churned"}, sdk.FilterStatusChangedFrom: {from.Format(time.DateOnly)}, sdk.FilterStatusChangedTo: {to.Format(time.DateOnly)}}
	return sdk.IntentReply{
		Intent: IntentChurn, Reply: text,
		Data: map[string]any{
			sdk.DataQuery: q.Encode(), "view": "count",
			"chart": map[string]any{"type": "bar", "title": "Patients churned per week", "labels": labels, "values": values},
		},
		Actions:     []sdk.Action{{Type: "navigate", Label: "Show them", Target: "/patients?" + q.Encode()}},
		Suggestions: []string{"why do patients churn?", "give me a summary", "who is stuck in onboarding?"},
	}
}

func onboarding(st Stats, today time.Time) sdk.IntentReply {
	before := today.AddDate(0, 0, -(StuckDays + 1))
	q := url.Values{sdk.FilterStatus: {"onboarding"}, sdk.FilterStatusChangedTo: {before.Format(time.DateOnly)}, sdk.FilterSort: {"updated_at"}}
	text := fmt.Sprintf("{total} %s have been in onboarding for more than %d days, out of %d in onboarding.",
		"{patients}", StuckDays, st.ByStatus["onboarding"])
	return sdk.IntentReply{
		Intent: IntentOnboarding, Reply: text,
		Data: map[string]any{
			sdk.DataQuery: q.Encode(), "view": "list",
			"chart": map[string]any{"type": "bar", "title": "Onboarding", "labels": []string{"stuck > 14 days", "in onboarding"}, "values": []int{st.StuckOnboarding, st.ByStatus["onboarding"]}},
		},
		Actions:     []sdk.Action{{Type: "navigate", Label: "Open the onboarding list", Target: "/patients?" + q.Encode()}},
		Suggestions: []string{"how does onboarding work?", "give me a summary"},
	}
}
