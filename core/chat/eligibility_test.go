package chat_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/eligibility"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/internal/testkit/eligibilitytest"
	"github.com/pfinni/pfinni/plugins/intent-insurance/coverage"
	"github.com/pfinni/pfinni/sdk"
)

// eligibilityEnv is a chat service whose check_eligibility actions run
// through the real eligibility service, the real insurance-x12 plugin
// process and the stub insurer; checks are audited in the real audit log.
type eligibilityEnv struct {
	*env
	ins   *eligibilitytest.Env
	svc   *eligibility.Service
	audit *audit.Log
}

func newEligibilityEnv(t *testing.T, o eligibilitytest.Options) *eligibilityEnv {
	t.Helper()
	ins := eligibilitytest.Start(t, o)
	x := &eligibilityEnv{ins: ins}
	x.env = newEnv(t, 0, func(d *chat.Deps) {
		x.audit = audit.New(d.DB, audit.Options{})
		t.Cleanup(func() { _ = x.audit.Close(context.Background()) })
		svc, err := eligibility.New(eligibility.Deps{DB: d.DB, Patients: d.Patients.(*patient.Service), Checker: ins.Registry, Audit: x.audit}, eligibility.Options{})
		require.NoError(t, err)
		x.svc, d.Eligibility = svc, svc
	})
	return x
}

// insured creates a patient of a unique name with the member id given
// (no insurance when member is "").
func (x *eligibilityEnv) insured(t *testing.T, first, last, member string) *patient.Patient {
	t.Helper()
	in := patient.Input{MRN: "ELIG-" + strings.ToUpper(last), FirstName: first, LastName: last, DateOfBirth: "1971-06-15", Sex: "female"}
	if member != "" {
		in.Insurance = patient.Insurance{Payer: "Acme Health", MemberID: member, Group: "G100"}
	}
	p, err := x.patients.Create(system(context.Background()), in)
	require.NoError(t, err)
	return p
}

// offer asks role's question and returns the check_eligibility button.
func (x *eligibilityEnv) offer(t *testing.T, role actor.Role, msg string, pc chat.PageContext) (chat.Reply, chat.Action) {
	t.Helper()
	r := ask(t, x.env, role, msg, pc)
	assert.Equal(t, coverage.IntentCheck, r.Intent, msg)
	require.Len(t, r.Actions, 1, "%s: %s", msg, r.Reply)
	return r, r.Actions[0]
}

func elig(t *testing.T, r chat.Reply) map[string]any {
	t.Helper()
	d, ok := r.Data["eligibility"].(map[string]any)
	require.True(t, ok, "the answer carries the result: %v", r.Data)
	return d
}

// TestEligibilityCheckFromThePanel: "is <patient> covered?" offers a
// Check eligibility button for exactly that patient; pressing it runs
// the check through the eligibility service as the user (stored and
// audited as them) and answers with the result — status, payer, plan,
// dates, main benefits, a link to the patient's page — once.
func TestEligibilityCheckFromThePanel(t *testing.T) {
	x := newEligibilityEnv(t, eligibilitytest.Options{})
	p := x.insured(t, "Quenby", "Zarkovic", "ACT1001")
	x.insured(t, "Orla", "Vantongeren", "ACT1002") // another patient, never checked

	r, a := x.offer(t, actor.RoleStaff, "Is Quenby Zarkovic covered?", chat.PageContext{Page: "patients"})
	assert.Equal(t, chat.ActionCheckEligibility, a.Type)
	assert.NotEmpty(t, a.ID, "the server keeps the action")
	assert.Equal(t, p.ID, a.Target)
	assert.Equal(t, "Check eligibility", a.Label)
	assert.Equal(t, "patient:"+p.ID, a.Params["patient"])
	assert.NotContains(t, r.Reply, "Zarkovic")
	assert.Contains(t, r.Reply, "press Check eligibility")

	res, err := x.chat.Confirm(as(actor.RoleStaff), a.ID, chat.ConfirmRequest{})
	require.NoError(t, err)
	assert.Equal(t, chat.IntentCheckEligibility, res.Intent)
	assert.Contains(t, res.Reply, "Covered")
	d := elig(t, res)
	assert.Equal(t, "active", d["status"])
	assert.Equal(t, "Covered", d["label"])
	assert.Equal(t, "STUB GOLD PPO", d["plan"])
	assert.Equal(t, map[string]string{"start": "2026-01-01", "end": "2026-12-31"}, d["coverage"])
	assert.Equal(t, "patient:"+p.ID, d["ref"])
	benefits, _ := d["benefits"].([]map[string]string)
	var sums []string
	for _, b := range benefits {
		sums = append(sums, b["summary"])
	}
	assert.Contains(t, sums, "co-pay $20.00, in network", "the office co-pay is a main benefit")
	require.Len(t, res.Actions, 1)
	assert.Equal(t, chat.Action{Type: sdk.ActionNavigate, Label: "Open patient", Target: "/patients/" + p.ID + "#eligibility"}, res.Actions[0])

	// The check is the eligibility service's: stored, by the user, audited as them.
	checks, err := x.svc.List(as(actor.RoleAdmin), p.ID, 0)
	require.NoError(t, err)
	require.Len(t, checks, 1)
	assert.Equal(t, d["check"], checks[0].ID)
	assert.Equal(t, "u_staff", checks[0].CheckedBy)
	page, err := x.audit.List(as(actor.RoleAdmin), audit.Filter{Action: "eligibility.check", Record: p.ID})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, "u_staff", page.Items[0].Actor, "audited as the user who pressed the button")

	// Once only.
	_, err = x.chat.Confirm(as(actor.RoleStaff), a.ID, chat.ConfirmRequest{})
	assert.ErrorIs(t, err, chat.ErrActionGone)

	// From the patient's page: "check eligibility for this patient".
	_, a2 := x.offer(t, actor.RoleAdmin, "check eligibility for this patient", chat.PageContext{Page: "patient", PatientID: p.ID})
	assert.Equal(t, p.ID, a2.Target)
	// Nobody else can press this user's button.
	_, err = x.chat.Confirm(as(actor.RoleStaff), a2.ID, chat.ConfirmRequest{})
	assert.ErrorIs(t, err, chat.ErrActionGone)
	checks, err = x.svc.List(as(actor.RoleAdmin), p.ID, 0)
	require.NoError(t, err)
	assert.Len(t, checks, 1, "a refused press runs no check")
}

// TestEligibilityResultsInPlainWords: every answer of the stub insurer
// is shown in the panel with the status and, when there is no coverage
// answer, the reason in plain words.
func TestEligibilityResultsInPlainWords(t *testing.T) {
	x := newEligibilityEnv(t, eligibilitytest.Options{Timeout: 2 * time.Second})
	for _, tc := range []struct {
		first, last, member string
		status, text        string
		rejection           bool
	}{
		{"Ysolde", "Inactivova", "INA2001", "inactive", "Not covered", false},
		{"Nerys", "Notfoundia", "NF2002", "not_found", "did not find", true},
		{"Bastian", "Garbledorf", "BAD2003", "error", "No answer", true},
		{"Sloane", "Waitabit", "SLOW2004", "error", "No answer", true},
	} {
		p := x.insured(t, tc.first, tc.last, tc.member)
		_, a := x.offer(t, actor.RoleStaff, "check insurance for "+tc.first+" "+tc.last, chat.PageContext{})
		res, err := x.chat.Confirm(as(actor.RoleStaff), a.ID, chat.ConfirmRequest{})
		require.NoError(t, err, tc.member)
		assert.Contains(t, res.Reply, tc.text, tc.member)
		d := elig(t, res)
		assert.Equal(t, tc.status, d["status"], tc.member)
		assert.Equal(t, "patient:"+p.ID, d["ref"], tc.member)
		rej, _ := d["rejection"].(map[string]string)
		if tc.rejection {
			assert.NotEmpty(t, rej["reason"], "%s: the reason in plain words", tc.member)
		} else {
			assert.Nil(t, d["rejection"], tc.member)
		}
	}
}

// TestEligibilityNeedsInsuranceOnFile: a patient without a payer or
// member id gets no check button but a way to add them; an unknown
// patient gets no button at all.
func TestEligibilityNeedsInsuranceOnFile(t *testing.T) {
	x := newEligibilityEnv(t, eligibilitytest.Options{})
	p := x.insured(t, "Wilhelmina", "Uninsuredson", "")
	r := ask(t, x.env, actor.RoleStaff, "is Wilhelmina Uninsuredson covered?", chat.PageContext{})
	assert.Contains(t, r.Reply, "no insurance payer or member id")
	require.Len(t, r.Actions, 1)
	assert.Equal(t, chat.Action{Type: sdk.ActionNavigate, Label: "Edit patient", Target: "/patients/" + p.ID + "/edit"}, r.Actions[0])

	r = ask(t, x.env, actor.RoleStaff, "is Nobodyat Allhere covered?", chat.PageContext{})
	assert.Empty(t, r.Actions)
	assert.Contains(t, r.Reply, "could not find")
}

// TestEligibilityRefusedToAuditor: an auditor asking gets a polite
// refusal and no button; the check never runs.
func TestEligibilityRefusedToAuditor(t *testing.T) {
	x := newEligibilityEnv(t, eligibilitytest.Options{})
	p := x.insured(t, "Quenby", "Zarkovic", "ACT3001")
	// By name: the patient search itself is refused to the role.
	r := ask(t, x.env, actor.RoleAuditor, "is Quenby Zarkovic covered?", chat.PageContext{})
	assert.Equal(t, chat.IntentForbidden, r.Intent)
	assert.Empty(t, r.Actions)
	// On the patient's page: the check is not offered, and the reply says why.
	r = ask(t, x.env, actor.RoleAuditor, "check eligibility for this patient", chat.PageContext{Page: "patient", PatientID: p.ID})
	assert.Equal(t, chat.IntentForbidden, r.Intent)
	assert.Empty(t, r.Actions)
	assert.Contains(t, r.Reply, "can't check insurance eligibility")
	assert.Nil(t, r.Data["patients"])
	assert.Zero(t, x.ins.Insurer.Received(), "nothing was sent to the insurer")
	checks, err := x.svc.List(as(actor.RoleAdmin), p.ID, 0)
	require.NoError(t, err)
	assert.Empty(t, checks)
}

// TestEligibilityHistoryKeepsCheckAndStatusOnly: the stored exchange
// holds the check's id, its status and the patient's reference — no
// payer, plan, member id, dates or name; the live answer had them.
func TestEligibilityHistoryKeepsCheckAndStatusOnly(t *testing.T) {
	x := newEligibilityEnv(t, eligibilitytest.Options{})
	p := x.insured(t, "Quenby", "Zarkovic", "ACT4001")
	_, a := x.offer(t, actor.RoleStaff, "is Quenby Zarkovic covered?", chat.PageContext{})
	res, err := x.chat.Confirm(as(actor.RoleStaff), a.ID, chat.ConfirmRequest{})
	require.NoError(t, err)
	d := elig(t, res)

	h, err := x.chat.History(as(actor.RoleStaff), "default", 10)
	require.NoError(t, err)
	last := h[len(h)-1]
	assert.Equal(t, chat.IntentCheckEligibility, last.Intent)
	assert.Equal(t, map[string]any{"check": d["check"], "status": "active", "ref": "patient:" + p.ID}, last.Data["eligibility"])
	require.Len(t, last.Actions, 1)
	assert.Empty(t, last.Actions[0].ID, "a stored action cannot be pressed again")
	offered := h[len(h)-3] // the offer's answer
	require.Len(t, offered.Actions, 1)
	assert.Equal(t, chat.ActionCheckEligibility, offered.Actions[0].Type)
	assert.Equal(t, p.ID, offered.Actions[0].Target)
	assert.Empty(t, offered.Actions[0].ID)

	kept := storedText(t, x.env)
	for _, phi := range []string{"stub gold", "acme", "act4001", "2026-12-31", "zarkovic", "quenby", "1971"} {
		assert.NotContains(t, kept, phi)
	}
}

// TestEligibilityAdapterDownLeavesTheButton: the adapter process dies
// while a check waits on the insurer: the press fails with the typed
// "not available" error, the action stays open, and pressing it again
// once the host has restarted the adapter gets an answer.
func TestEligibilityAdapterDownLeavesTheButton(t *testing.T) {
	x := newEligibilityEnv(t, eligibilitytest.Options{Timeout: 5 * time.Second})
	x.insured(t, "Sloane", "Waitabit", "SLOW5001")
	_, a := x.offer(t, actor.RoleStaff, "is Sloane Waitabit covered?", chat.PageContext{})
	done := make(chan error, 1)
	go func() {
		_, err := x.chat.Confirm(as(actor.RoleStaff), a.ID, chat.ConfirmRequest{})
		done <- err
	}()
	require.Eventually(t, func() bool { return x.ins.Insurer.Received() == 1 }, 20*time.Second, 10*time.Millisecond, "the check is in flight")
	x.ins.Kill(t)
	err := <-done
	require.ErrorIs(t, err, eligibility.ErrAdapter)
	require.ErrorIs(t, err, fault.ErrUnavailable)

	var res chat.Reply
	require.Eventually(t, func() bool {
		res, err = x.chat.Confirm(as(actor.RoleStaff), a.ID, chat.ConfirmRequest{})
		return err == nil
	}, 60*time.Second, 200*time.Millisecond, "the same button works once the adapter is back")
	assert.Equal(t, "error", elig(t, res)["status"], "the slow insurer's check times out, and says so")
}

// proposeCheck is an intent plugin that proposes a check for a patient,
// worded as something else and with parameters the core must ignore.
type proposeCheck struct{ target, other string }

func (h proposeCheck) MatchIntent(context.Context, sdk.MatchRequest) (plugin.IntentMatch, bool) {
	return plugin.IntentMatch{Plugin: "evil", Intent: "evil.check", Score: 1}, true
}

func (h proposeCheck) HandleIntent(context.Context, plugin.IntentMatch, sdk.IntentRequest) (sdk.IntentReply, error) {
	return sdk.IntentReply{Reply: "Nothing to see.", Actions: []sdk.Action{
		{Type: sdk.ActionCheckEligibility, Label: "Close", Target: h.target, Params: map[string]any{"patient": h.other}},
	}}, nil
}

// TestEligibilityOfferIsTheServers: the core keeps the patient of the
// check (the plugin's parameters are ignored, the label is the server's)
// and the panel's press carries nothing but the action's id.
func TestEligibilityOfferIsTheServers(t *testing.T) {
	x := newEligibilityEnv(t, eligibilitytest.Options{})
	p := x.insured(t, "Quenby", "Zarkovic", "ACT6001")
	other := x.insured(t, "Orla", "Vantongeren", "ACT6002")
	e2 := newEnv(t, 0, func(d *chat.Deps) {
		d.DB, d.Patients, d.Eligibility, d.Intents = x.db, x.patients, x.svc, proposeCheck{target: p.ID, other: other.ID}
	})
	r := ask(t, e2, actor.RoleStaff, "anything", chat.PageContext{})
	require.Len(t, r.Actions, 1)
	a := r.Actions[0]
	assert.Equal(t, "Check eligibility", a.Label)
	assert.Equal(t, "patient:"+p.ID, a.Params["patient"])
	assert.Contains(t, r.Reply, "press Check eligibility")

	res, err := e2.chat.Confirm(as(actor.RoleStaff), a.ID, chat.ConfirmRequest{})
	require.NoError(t, err)
	assert.Equal(t, "patient:"+p.ID, elig(t, res)["ref"])
	checks, err := x.svc.List(as(actor.RoleAdmin), other.ID, 0)
	require.NoError(t, err)
	assert.Empty(t, checks, "the other patient was never checked")

	// Without an eligibility service no check is offered.
	e3 := newEnv(t, 0, func(d *chat.Deps) {
		d.DB, d.Patients, d.Intents = x.db, x.patients, proposeCheck{target: p.ID}
	})
	r = ask(t, e3, actor.RoleStaff, "anything", chat.PageContext{})
	require.Len(t, r.Actions, 1)
	assert.Equal(t, sdk.ActionNavigate, r.Actions[0].Type)
}

// TestEligibilityStoredRowHoldsIDsOnly: the chat_action row of an offer
// holds the patient's record id and nothing else.
func TestEligibilityStoredRowHoldsIDsOnly(t *testing.T) {
	x := newEligibilityEnv(t, eligibilitytest.Options{})
	p := x.insured(t, "Quenby", "Zarkovic", "ACT7001")
	x.offer(t, actor.RoleStaff, "is Quenby Zarkovic covered?", chat.PageContext{})
	rows, err := store.Query[[]map[string]any](context.Background(), x.db, "SELECT type, target, params FROM chat_action WHERE type = 'check_eligibility'", nil)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, p.ID, rows[0]["target"])
	var params map[string]any
	require.NoError(t, json.Unmarshal([]byte(rows[0]["params"].(string)), &params))
	assert.Equal(t, map[string]any{"patient": p.ID}, params)
}
