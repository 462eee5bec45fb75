package chat_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
)

// alertCounts is an AlertCounter with fixed answers (core/alerts is
// tested against the database in its own package).
type alertCounts struct {
	counts map[string]int
	err    error
}

func (a alertCounts) UnreadCounts(context.Context) (map[string]int, error) { return a.counts, a.err }

// "any alerts?" is answered from the alert store, before the plugins,
// with counts by kind; the stored reply is the same text (no names).
func TestAssistantAnswersAnyAlerts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		counter alertCounts
		ask     string
		want    string
	}{
		{"several kinds", alertCounts{counts: map[string]int{"status_changed": 2, "birthday": 1, "mystery": 1}}, "any alerts?",
			"You have 4 unread alerts: 2 status changes, 1 birthday today, 1 other alert. Open the bell at the top of the page to see them."},
		{"one", alertCounts{counts: map[string]int{"job_dead": 1}}, "Do I have new alerts",
			"You have 1 unread alert: 1 dead background job. Open the bell at the top of the page to see them."},
		{"none", alertCounts{counts: map[string]int{}}, "show my alerts", "You have no unread alerts."},
		{"store down", alertCounts{err: errors.New("database gone")}, "alerts",
			"I cannot read your alerts right now; the bell at the top of the page shows them once the database answers."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 0, func(d *chat.Deps) { d.Alerts = tc.counter })
			r, err := e.chat.Ask(as(actor.RoleStaff), chat.Request{Message: tc.ask, Session: "alerts"})
			require.NoError(t, err)
			assert.Equal(t, chat.IntentAlerts, r.Intent)
			assert.Equal(t, tc.want, r.Reply)
			hist, err := e.chat.History(as(actor.RoleStaff), "alerts", 10)
			require.NoError(t, err)
			require.Len(t, hist, 2)
			assert.Equal(t, tc.want, hist[1].Text, "kept as answered: counts only")
		})
	}
	// Other questions go on to the plugins.
	e := newEnv(t, 5, func(d *chat.Deps) { d.Alerts = alertCounts{counts: map[string]int{"birthday": 1}} })
	r, err := e.chat.Ask(as(actor.RoleStaff), chat.Request{Message: "how many active patients?"})
	require.NoError(t, err)
	assert.NotEqual(t, chat.IntentAlerts, r.Intent)
}
