package chat

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// AlertCounter counts the caller's unread alerts by kind (core/alerts):
// the assistant answers "any alerts?" from the same store as the bell.
type AlertCounter interface {
	UnreadCounts(ctx context.Context) (map[string]int, error)
}

// IntentAlerts is the built-in intent of "any alerts?".
const IntentAlerts = "alerts.summary"

// alertQuestion matches asking for one's alerts: "any alerts?", "do I
// have new alerts", "show my alerts", "what are my unread alerts?".
var alertQuestion = regexp.MustCompile(`(?i)^\s*(?:(?:are there|do i have|have i got|show(?: me)?|list|what are|check)\s+)?` +
	`(?:(?:any|my|new|unread|the)\s+)*(?:alerts?|notifications?)\s*(?:for me\s*)?[?!.]*\s*$`)

// alertLabels name each kind's count in a reply, singular and plural.
var alertLabels = map[string][2]string{
	"status_changed":        {"status change", "status changes"},
	"onboarding_overdue":    {"patient overdue in onboarding", "patients overdue in onboarding"},
	"birthday":              {"birthday today", "birthdays today"},
	"import_finished":       {"finished import", "finished imports"},
	"import_failed":         {"failed import", "failed imports"},
	"plugin_out_of_service": {"plugin out of service", "plugins out of service"},
	"job_dead":              {"dead background job", "dead background jobs"},
}

// answerAlerts answers an alert question from the alert store: counts by
// kind only (the reply is stored as is; it names no patient). ok is false
// when msg is not such a question or no store is wired.
func (s *Service) answerAlerts(ctx context.Context, msg string) (Reply, bool) {
	if s.d.Alerts == nil || !alertQuestion.MatchString(msg) {
		return Reply{}, false
	}
	r := Reply{Intent: IntentAlerts, Suggestions: []string{}}
	counts, err := s.d.Alerts.UnreadCounts(ctx)
	if err != nil {
		s.d.Logger.WarnContext(ctx, "count alerts for the assistant", "err", err)
		r.Reply = "I cannot read your alerts right now; the bell at the top of the page shows them once the database answers."
		return r, true
	}
	total := 0
	kinds := make([]string, 0, len(counts))
	for k, n := range counts {
		total += n
		kinds = append(kinds, k)
	}
	if total == 0 {
		r.Reply = "You have no unread alerts."
		return r, true
	}
	sort.Slice(kinds, func(i, j int) bool {
		return counts[kinds[i]] > counts[kinds[j]] || counts[kinds[i]] == counts[kinds[j]] && kinds[i] < kinds[j]
	})
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		l, ok := alertLabels[k]
		if !ok {
			l = [2]string{"other alert", "other alerts"}
		}
		label := l[1]
		if counts[k] == 1 {
			label = l[0]
		}
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], label))
	}
	noun := "alerts"
	if total == 1 {
		noun = "alert"
	}
	r.Reply = fmt.Sprintf("You have %d unread %s: %s. Open the bell at the top of the page to see them.", total, noun, strings.Join(parts, ", "))
	r.Data = map[string]any{"alerts": total}
	return r, true
}
