package chat_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/patient"
)

// instance starts another core instance's chat service on its own
// connection to e's database, with e's patients and plugins.
//
// Each instance's clock runs a second per letter after the first
// instance's (fixedNow): the history orders answers by time, and with
// one frozen clock every answer tied, so "the last answer" was whichever
// row the database returned first.
func instance(t *testing.T, e *env, name string) *chat.Service {
	t.Helper()
	later := time.Duration(name[0]-'A') * time.Second
	now := func() time.Time { return fixedNow().Add(later) }
	s, err := chat.New(context.Background(), chat.Deps{DB: open(t, e.cfg), Patients: e.patients, Intents: e.plugins, Knowledge: e.plugins,
		Audit: e.audit, Now: now, Location: time.UTC, Instance: name}, chat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// awaitAnswer waits until sub delivers the assistant's message of session.
func awaitAnswer(t *testing.T, sub *chat.Subscription, session string) {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case m := <-sub.C:
			if m.Role == "assistant" && m.Session == session {
				return
			}
		case <-timeout:
			t.Fatalf("no answer of session %s arrived", session)
		}
	}
}

func queryOf(t *testing.T, r chat.Reply) url.Values {
	t.Helper()
	q, ok := r.Data["query"].(string)
	require.True(t, ok, "a data answer: %q", r.Reply)
	v, err := url.ParseQuery(q)
	require.NoError(t, err)
	return v
}

// TestFollowUpAcrossInstances (issue 10 item 3): a follow-up builds on
// the previous data answer of the conversation whichever core instance
// gave it — learned from the history's live query, or read from the
// history by an instance that started later — and the history keeps the
// filter without its search text: after a name search answered elsewhere
// the assistant asks which patients are meant instead of widening the
// follow-up to everyone.
func TestFollowUpAcrossInstances(t *testing.T) {
	e := newEnv(t, 120)
	staff := as(actor.RoleStaff)
	b := instance(t, e, "B")
	subB, err := b.Subscribe(staff)
	require.NoError(t, err)
	defer subB.Close()

	_, err = e.chat.Ask(staff, chat.Request{Message: "show me all active patients", Session: "s1"})
	require.NoError(t, err)
	awaitAnswer(t, subB, "s1")
	r, err := b.Ask(staff, chat.Request{Message: "how many of them are over 65", Session: "s1"})
	require.NoError(t, err)
	v := queryOf(t, r)
	assert.Equal(t, "active", v.Get("status"), "B narrowed A's answer")
	assert.Equal(t, "66", v.Get("age_min"))
	require.NoError(t, b.Flush(context.Background()))

	// An instance started after both answers reads the last one from the
	// history.
	c := instance(t, e, "C")
	r, err = c.Ask(staff, chat.Request{Message: "show them", Session: "s1"})
	require.NoError(t, err)
	v = queryOf(t, r)
	assert.Equal(t, "active", v.Get("status"))
	assert.Equal(t, "66", v.Get("age_min"))
	// Another conversation has no previous answer.
	r, err = c.Ask(staff, chat.Request{Message: "show them", Session: "s9"})
	require.NoError(t, err)
	assert.Contains(t, r.Reply, "Which patients do you mean?")

	// A name search: its filter stays on the instance that answered.
	page, err := e.patients.List(staff, patient.Filter{Limit: 1, Statuses: []patient.Status{patient.StatusActive}})
	require.NoError(t, err)
	p := page.Items[0]
	_, err = e.chat.Ask(staff, chat.Request{Message: fmt.Sprintf("find %s %s", p.FirstName, p.LastName), Session: "s2"})
	require.NoError(t, err)
	awaitAnswer(t, subB, "s2")
	r, err = b.Ask(staff, chat.Request{Message: "show them", Session: "s2"})
	require.NoError(t, err)
	assert.Contains(t, r.Reply, "Which patients do you mean?", "not widened to every patient")
	assert.NotContains(t, r.Data, "query")
	r, err = e.chat.Ask(staff, chat.Request{Message: "only the active ones", Session: "s2"})
	require.NoError(t, err)
	v = queryOf(t, r)
	assert.NotEmpty(t, v.Get("q"), "the instance that searched still narrows its own answer")
	assert.Equal(t, "active", v.Get("status"))
	require.NoError(t, b.Flush(context.Background()))
	assertNoIdentifiers(t, storedText(t, e), p)
}

// TestCloseStoresEveryAnswer: Ask answers before its history rows and
// audit event are stored; Close stores them all before it returns, so a
// shutdown loses none.
func TestCloseStoresEveryAnswer(t *testing.T) {
	e := newEnv(t, 30)
	c := instance(t, e, "C")
	const n = 30
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := c.Ask(as(actor.RoleStaff), chat.Request{Message: "how many active patients?", Session: fmt.Sprintf("c%d", i)})
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	require.NoError(t, c.Close())
	h, err := e.chat.History(as(actor.RoleStaff), "", 0)
	require.NoError(t, err)
	assert.Len(t, h, 2*n, "every exchange is in the history")
	asked := 0
	for _, ev := range e.audit.Events() {
		if ev.Action == "chat.ask" {
			asked++
		}
	}
	assert.Equal(t, n, asked, "every answer is audited")
	_, err = c.Ask(as(actor.RoleStaff), chat.Request{Message: "how many active patients?"})
	assert.Error(t, err, "a closed service answers no more")
}
