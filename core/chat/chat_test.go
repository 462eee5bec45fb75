package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/sdk"
)

func ask(t *testing.T, e *env, role actor.Role, msg string, pc chat.PageContext) chat.Reply {
	t.Helper()
	r, err := e.chat.Ask(as(role), chat.Request{Message: msg, Context: pc})
	require.NoError(t, err)
	return r
}

func TestAskDataQuestion(t *testing.T) {
	e := newEnv(t, 120)
	r := ask(t, e, actor.RoleStaff, "show me all active patients", chat.PageContext{Page: "/patients"})
	assert.Equal(t, "patients.list", r.Intent)
	total, _ := r.Data["total"].(int)
	assert.Positive(t, total)
	assert.Contains(t, r.Reply, "I found ")
	assert.NotContains(t, r.Reply, "{total}")
	refs, _ := r.Data["patients"].([]map[string]string)
	require.NotEmpty(t, refs)
	assert.NotEmpty(t, refs[0]["id"])
	assert.NotEmpty(t, refs[0]["mrn"])
	require.NotEmpty(t, r.Actions)
	assert.Equal(t, "navigate", r.Actions[0].Type)
	assert.Equal(t, "/patients?status=active", r.Actions[0].Target)
	assert.NotEmpty(t, r.ID)

	// Every reply is audited (intent only), once its event is written.
	require.NoError(t, e.chat.Flush(context.Background()))
	ev, ok := e.audit.Last("chat.ask")
	require.True(t, ok)
	assert.Equal(t, "intent=patients.list", ev.Detail)
}

func TestAskValidation(t *testing.T) {
	e := newEnv(t, 0)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		req  chat.Request
		kind error
	}{
		{"anonymous", context.Background(), chat.Request{Message: "hi"}, fault.ErrUnauthorized},
		{"empty", as(actor.RoleStaff), chat.Request{Message: "  "}, fault.ErrInvalid},
		{"too long", as(actor.RoleStaff), chat.Request{Message: strings.Repeat("a", 10<<20)}, fault.ErrInvalid},
		{"bad utf8", as(actor.RoleStaff), chat.Request{Message: "\xff\xfe"}, fault.ErrInvalid},
		{"long page", as(actor.RoleStaff), chat.Request{Message: "hi", Context: chat.PageContext{Page: strings.Repeat("/x", 300)}}, fault.ErrInvalid},
		{"long session", as(actor.RoleStaff), chat.Request{Message: "hi", Session: strings.Repeat("s", 101)}, fault.ErrInvalid},
		{"free text as a session", as(actor.RoleStaff), chat.Request{Message: "hi", Session: "Jane Doe 1970"}, fault.ErrInvalid},
		{"free text as a selection", as(actor.RoleStaff), chat.Request{Message: "hi", Context: chat.PageContext{Selection: []string{"Jane Doe"}}}, fault.ErrInvalid},
		{"free text as a patient id", as(actor.RoleStaff), chat.Request{Message: "hi", Context: chat.PageContext{PatientID: "Jane Doe"}}, fault.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.chat.Ask(tc.ctx, tc.req)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
		})
	}
}

// TestHistoryKeepsNoIdentifiers holds a conversation about named patients
// and proves the stored history holds none of their identifiers.
func TestHistoryKeepsNoIdentifiers(t *testing.T) {
	e := newEnv(t, 60)
	all := allPatients(t, e.patients)
	a, b := all[3], all[17]
	pc := chat.PageContext{Page: "/patients/" + a.ID, PatientID: a.ID}
	msgs := []string{
		"find " + a.FirstName + " " + a.LastName,
		"look up patient " + b.MRN,
		"pull up " + b.FirstName + " " + b.LastName + " born " + b.DateOfBirth,
		"find " + typo(a.LastName),
		"her phone is " + a.Phone + " and email " + a.Email + ", she lives at " + a.Address.Line1 + ", " + a.Address.City,
		"SSN 123-45-6789, MRN " + a.MRN + ", call (555) 010-9999",
		"mark this patient as inactive because " + a.FirstName + " moved to " + a.Address.Line1,
		"is " + strings.ToUpper(b.LastName) + " still active?",
	}
	for _, m := range msgs {
		_, err := e.chat.Ask(as(actor.RoleStaff), chat.Request{Message: m, Context: pc})
		require.NoError(t, err, m)
	}
	hist, err := e.chat.History(as(actor.RoleStaff), "", 0)
	require.NoError(t, err)
	require.Len(t, hist, 2*len(msgs))
	raw, err := json.Marshal(hist)
	require.NoError(t, err)
	// Also read the table directly: what is kept, not what is returned.
	rows, err := store.Query[[]map[string]any](context.Background(), e.db, "SELECT * FROM chat_message", nil)
	require.NoError(t, err)
	stored, _ := json.Marshal(rows)
	for _, text := range []string{string(raw), string(stored)} {
		low := strings.ToLower(text)
		for _, p := range []*patient.Patient{a, b} {
			for _, id := range []string{p.FirstName, p.LastName, p.MRN, p.DateOfBirth, p.Email, p.Phone, p.Address.Line1, typo(a.LastName)} {
				if id == "" {
					continue
				}
				assert.NotContains(t, low, strings.ToLower(id), "stored history leaks %q", id)
			}
		}
		assert.NotContains(t, text, "123-45-6789")
		assert.NotContains(t, text, "010-9999")
		assert.Contains(t, text, chat.PHName)
		assert.Contains(t, text, "patient:"+a.ID, "patients are kept as record references")
	}
	// The user's own session sees the history; another user sees nothing.
	other, err := e.chat.History(actor.With(context.Background(), actor.Actor{UserID: "u_other", Role: actor.RoleStaff}), "", 0)
	require.NoError(t, err)
	assert.Empty(t, other)
	_, err = e.chat.History(context.Background(), "", 0)
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
}

// typo swaps two inner letters ("Martinez" -> "Mratinez").
func typo(s string) string {
	r := []rune(s)
	if len(r) > 3 {
		r[1], r[2] = r[2], r[1]
	}
	return string(r)
}

func TestActionsNeedConfirmationAndRole(t *testing.T) {
	e := newEnv(t, 30)
	p := allPatients(t, e.patients)[0]
	require.Equal(t, patient.StatusActive, p.Status)
	pc := chat.PageContext{Page: "/patients/" + p.ID, PatientID: p.ID}

	t.Run("auditor is told politely", func(t *testing.T) {
		r := ask(t, e, actor.RoleAuditor, "mark this patient as inactive", pc)
		assert.Equal(t, chat.IntentForbidden, r.Intent)
		assert.Empty(t, r.Actions)
		assert.Contains(t, r.Reply, "auditor")
		r = ask(t, e, actor.RoleAuditor, "show me all active patients", pc)
		assert.Equal(t, chat.IntentForbidden, r.Intent)
		assert.Nil(t, r.Data["patients"])
	})
	t.Run("staff cannot open imports", func(t *testing.T) {
		r := ask(t, e, actor.RoleStaff, "open the import page", pc)
		for _, a := range r.Actions {
			assert.NotEqual(t, chat.ActionStartImport, a.Type)
		}
		assert.Contains(t, r.Reply, "needs an admin")
		r = ask(t, e, actor.RoleAdmin, "open the import page", pc)
		require.Len(t, r.Actions, 1)
		assert.Equal(t, chat.ActionStartImport, r.Actions[0].Type)
	})

	r := ask(t, e, actor.RoleStaff, "mark this patient as inactive", pc)
	require.Equal(t, "patients.set_status", r.Intent)
	require.Len(t, r.Actions, 1)
	act := r.Actions[0]
	assert.True(t, act.Confirm)
	require.NotEmpty(t, act.ID)
	// Nothing changed yet.
	cur, err := e.patients.Get(as(actor.RoleStaff), p.ID)
	require.NoError(t, err)
	assert.Equal(t, patient.StatusActive, cur.Status)

	t.Run("another user cannot confirm it", func(t *testing.T) {
		other := actor.With(context.Background(), actor.Actor{UserID: "u_someone", Role: actor.RoleAdmin})
		_, err := e.chat.Confirm(other, act.ID, chat.ConfirmRequest{})
		assert.ErrorIs(t, err, chat.ErrActionGone)
	})

	done, err := e.chat.Confirm(as(actor.RoleStaff), act.ID, chat.ConfirmRequest{})
	require.NoError(t, err)
	assert.Equal(t, "action.set_status", done.Intent)
	assert.Contains(t, done.Reply, "inactive")
	cur, err = e.patients.Get(as(actor.RoleStaff), p.ID)
	require.NoError(t, err)
	assert.Equal(t, patient.StatusInactive, cur.Status)
	ev, ok := e.audit.Last("patient.status_change")
	require.True(t, ok)
	assert.Equal(t, "u_staff", ev.Actor, "the change runs as the user, audited by the patient service")

	_, err = e.chat.Confirm(as(actor.RoleStaff), act.ID, chat.ConfirmRequest{})
	assert.ErrorIs(t, err, chat.ErrActionGone, "an action runs once")

	t.Run("churn needs a reason, asked at confirmation and never kept", func(t *testing.T) {
		r := ask(t, e, actor.RoleStaff, "churn this patient because they moved away to the coast", pc)
		require.Len(t, r.Actions, 1)
		assert.Contains(t, r.Reply, "reason")
		assert.Equal(t, true, r.Actions[0].Params["reason_required"])
		_, err := e.chat.Confirm(as(actor.RoleStaff), r.Actions[0].ID, chat.ConfirmRequest{})
		assert.ErrorIs(t, err, fault.ErrInvalid)
		cur, err := e.patients.Get(as(actor.RoleStaff), p.ID)
		require.NoError(t, err)
		assert.Equal(t, patient.StatusInactive, cur.Status, "nothing changed without a reason")
		// The offer holds no free-text reason, in the action or the history.
		require.NoError(t, e.chat.Flush(context.Background()))
		for _, table := range []string{"chat_action", "chat_message"} {
			rows, err := store.Query[[]map[string]any](context.Background(), e.db, "SELECT * FROM "+table, nil)
			require.NoError(t, err)
			raw, _ := json.Marshal(rows)
			assert.NotContains(t, string(raw), "moved away", table)
			assert.NotContains(t, string(raw), "coast", table)
		}
		// The same action, confirmed with the reason, runs.
		done, err := e.chat.Confirm(as(actor.RoleStaff), r.Actions[0].ID, chat.ConfirmRequest{Reason: "moved away"})
		require.NoError(t, err)
		assert.Contains(t, done.Reply, "churned")
	})
	t.Run("cancel", func(t *testing.T) {
		r := ask(t, e, actor.RoleStaff, "mark this patient as active because returned", pc)
		require.Len(t, r.Actions, 1)
		require.NoError(t, e.chat.Cancel(as(actor.RoleStaff), r.Actions[0].ID))
		_, err := e.chat.Confirm(as(actor.RoleStaff), r.Actions[0].ID, chat.ConfirmRequest{})
		assert.ErrorIs(t, err, chat.ErrActionGone)
		assert.ErrorIs(t, e.chat.Cancel(as(actor.RoleStaff), r.Actions[0].ID), chat.ErrActionGone)
	})
}

// brokenIntents is an intent router whose handler fails or hangs.
type brokenIntents struct {
	err  error
	hang bool
}

func (b brokenIntents) MatchIntent(ctx context.Context, req sdk.MatchRequest) (plugin.IntentMatch, bool) {
	return plugin.IntentMatch{Plugin: "x", Intent: "patients.list", Score: 0.9}, true
}

func (b brokenIntents) HandleIntent(ctx context.Context, _ plugin.IntentMatch, _ sdk.IntentRequest) (sdk.IntentReply, error) {
	if b.hang {
		<-ctx.Done()
		return sdk.IntentReply{}, ctx.Err()
	}
	return sdk.IntentReply{}, b.err
}

func TestPluginFailureIsGraceful(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     brokenIntents
		intent string
	}{
		{"trap", brokenIntents{err: errors.New("wasm trap")}, chat.IntentFailure},
		{"hang", brokenIntents{hang: true}, chat.IntentFailure},
		{"bad input", brokenIntents{err: sdk.Errorf(sdk.CodeInvalidInput, "nope")}, "patients.list"},
		{"forbidden", brokenIntents{err: sdk.Errorf(sdk.CodeForbidden, "role")}, chat.IntentForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 0, func(d *chat.Deps) { d.Intents = tc.in })
			start := time.Now()
			r := ask(t, e, actor.RoleStaff, "show me all active patients", chat.PageContext{})
			assert.Equal(t, tc.intent, r.Intent)
			assert.NotEmpty(t, r.Reply)
			assert.Less(t, time.Since(start), 5*time.Second, "every plugin call has a deadline")
		})
	}
}

func TestKnowledgeAndFallback(t *testing.T) {
	e := newEnv(t, 0)
	r := ask(t, e, actor.RoleAuditor, "HIPAA audit controls", chat.PageContext{Page: "/audit"})
	assert.Equal(t, chat.IntentKnowledge, r.Intent)
	assert.Contains(t, r.Reply, "45 CFR 164.312(b)", "every answer cites its article")
	arts, _ := r.Data["articles"].([]map[string]any)
	require.NotEmpty(t, arts)

	for page, want := range map[string]string{"/patients": "find patients", "/audit": "audit", "/patients/new": "field", "/patients/p1": "status", "/admin/users": "roles", "": "patients"} {
		r := ask(t, e, actor.RoleStaff, "tell me a joke", chat.PageContext{Page: page})
		assert.Equal(t, chat.IntentFallback, r.Intent)
		assert.Contains(t, r.Reply, want, page)
		assert.NotEmpty(t, r.Suggestions)
	}
	// No plugins at all: still a helpful answer.
	bare := newEnv(t, 0, func(d *chat.Deps) { d.Intents, d.Knowledge = nil, nil })
	r = ask(t, bare, actor.RoleStaff, "show me all active patients", chat.PageContext{})
	assert.Equal(t, chat.IntentFallback, r.Intent)
}

func TestInsightsAndTour(t *testing.T) {
	e := newEnv(t, 200)
	r := ask(t, e, actor.RoleStaff, "give me a summary", chat.PageContext{Page: "/"})
	assert.Equal(t, "insights.summary", r.Intent)
	assert.Contains(t, r.Reply, "You have 200 patients")
	assert.NotNil(t, r.Data["chart"])

	r = ask(t, e, actor.RoleStaff, "who is stuck in onboarding", chat.PageContext{})
	assert.Equal(t, "insights.onboarding", r.Intent)
	assert.NotContains(t, r.Reply, "{total}")

	// Tour: starts at 0, resumes where the user left off.
	tr, err := e.chat.Tour(as(actor.RoleStaff))
	require.NoError(t, err)
	assert.False(t, tr.Started)
	_, err = e.chat.SaveTour(as(actor.RoleStaff), chat.Tour{Step: 3})
	require.NoError(t, err)
	r = ask(t, e, actor.RoleStaff, "resume the tour", chat.PageContext{})
	assert.Equal(t, "tour.start", r.Intent)
	assert.Contains(t, r.Reply, "step 4")
	_, err = e.chat.SaveTour(as(actor.RoleStaff), chat.Tour{Step: -1})
	assert.ErrorIs(t, err, fault.ErrInvalid)
	_, err = e.chat.Tour(context.Background())
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
}

// TestFanOutAcrossInstances: two chat services (two core instances) on
// one database; a message asked on A reaches the user's subscriber on B.
func TestFanOutAcrossInstances(t *testing.T) {
	e := newEnv(t, 10)
	dbB := open(t, e.cfg) // a second connection: core instance B
	b, err := chat.New(context.Background(), chat.Deps{DB: dbB, Patients: e.patients, Intents: e.plugins, Knowledge: e.plugins, Now: fixedNow, Location: time.UTC, Instance: "B"}, chat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })

	subB, err := b.Subscribe(as(actor.RoleStaff))
	require.NoError(t, err)
	defer subB.Close()
	subOther, err := b.Subscribe(as(actor.RoleAdmin))
	require.NoError(t, err)
	defer subOther.Close()

	_, err = e.chat.Ask(as(actor.RoleStaff), chat.Request{Message: "how many active patients?", Session: "tab1"})
	require.NoError(t, err)
	got := map[string]chat.Message{}
	timeout := time.After(10 * time.Second)
	for len(got) < 2 {
		select {
		case m := <-subB.C:
			got[m.Role] = m
		case <-timeout:
			t.Fatalf("instance B received %d of 2 messages", len(got))
		}
	}
	assert.Equal(t, "how many active patients?", got["user"].Text)
	assert.Equal(t, "patients.count", got["assistant"].Intent)
	assert.Equal(t, "tab1", got["assistant"].Session)
	select {
	case m := <-subOther.C:
		t.Fatalf("another user received %q", m.Text)
	case <-time.After(300 * time.Millisecond):
	}
	_, err = b.Subscribe(context.Background())
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
}
