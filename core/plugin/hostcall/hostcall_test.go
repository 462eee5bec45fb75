package hostcall

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/sdk"
)

type patients struct {
	list sdk.PatientList
	err  error
	got  sdk.PatientQuery
}

func (p *patients) SearchPatients(_ context.Context, q sdk.PatientQuery) (sdk.PatientList, error) {
	p.got = q
	return p.list, p.err
}

type kb struct{ err error }

func (k kb) Search(context.Context, sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	return sdk.KBSearchResult{Articles: []sdk.Article{{ID: "a"}}}, k.err
}

type auditor struct {
	events []audit.Event
	err    error
}

func (a *auditor) Record(_ context.Context, ev audit.Event) error {
	if a.err != nil {
		return a.err
	}
	a.events = append(a.events, ev)
	return nil
}

func result(t *testing.T, env []byte, v any) error {
	t.Helper()
	return sdk.DecodeEnvelope(env, v)
}

func TestDispatcher(t *testing.T) {
	staff := actor.With(context.Background(), actor.Actor{UserID: "user:7", Role: actor.RoleStaff, RequestID: "r1", IP: "10.0.0.1"})
	all := Caller{Plugin: "p", Capabilities: []string{sdk.CapPatientsRead, sdk.CapKBRead, sdk.CapLog}}
	many := make([]sdk.PatientSummary, 150)
	for i := range many {
		many[i] = sdk.PatientSummary{ID: "patient:x", MRN: "M"}
	}

	tests := []struct {
		name     string
		ctx      context.Context
		caller   Caller
		op, in   string
		pts      *patients
		aud      *auditor
		kb       KBSearcher
		code     string // expected error code; "" = success
		audits   int
		outcome  string
		returned int
	}{
		{name: "patients ok", ctx: staff, caller: all, op: sdk.OpPatientsSearch, in: `{"status":"active"}`,
			pts: &patients{list: sdk.PatientList{Patients: []sdk.PatientSummary{{ID: "patient:1", MRN: "M1", FirstName: "A"}}, Total: 1}}, aud: &auditor{}, audits: 1, outcome: audit.OutcomeSuccess, returned: 1},
		{name: "patients capped", ctx: staff, caller: all, op: sdk.OpPatientsSearch, in: `{"limit":1000}`,
			pts: &patients{list: sdk.PatientList{Patients: many, Total: 150}}, aud: &auditor{}, audits: 1, outcome: audit.OutcomeSuccess, returned: MaxPatients},
		{name: "patients none", ctx: staff, caller: all, op: sdk.OpPatientsSearch, in: `{}`, pts: &patients{}, aud: &auditor{}, audits: 1, outcome: audit.OutcomeSuccess},
		{name: "not granted", ctx: staff, caller: Caller{Plugin: "p"}, op: sdk.OpPatientsSearch, in: `{}`, pts: &patients{}, aud: &auditor{}, code: sdk.CodeCapabilityDenied, audits: 1, outcome: audit.OutcomeDenied},
		{name: "anonymous", ctx: context.Background(), caller: all, op: sdk.OpPatientsSearch, in: `{}`, pts: &patients{}, aud: &auditor{}, code: sdk.CodeForbidden, audits: 1, outcome: audit.OutcomeDenied},
		{name: "auditor role", ctx: actor.With(context.Background(), actor.Actor{UserID: "u", Role: actor.RoleAuditor}), caller: all, op: sdk.OpPatientsSearch, in: `{}`, pts: &patients{}, aud: &auditor{}, code: sdk.CodeForbidden, audits: 1, outcome: audit.OutcomeDenied},
		{name: "bad json", ctx: staff, caller: all, op: sdk.OpPatientsSearch, in: `{`, pts: &patients{}, aud: &auditor{}, code: sdk.CodeInvalidInput},
		{name: "no directory", ctx: staff, caller: all, op: sdk.OpPatientsSearch, in: `{}`, aud: &auditor{}, code: sdk.CodeUnavailable},
		{name: "directory fails", ctx: staff, caller: all, op: sdk.OpPatientsSearch, in: `{}`, pts: &patients{err: errors.New("down")}, aud: &auditor{}, code: sdk.CodeUnavailable, audits: 1, outcome: audit.OutcomeError},
		{name: "audit fails: no data", ctx: staff, caller: all, op: sdk.OpPatientsSearch, in: `{}`, pts: &patients{}, aud: &auditor{err: errors.New("down")}, code: sdk.CodeUnavailable},
		{name: "kb ok", ctx: staff, caller: all, op: sdk.OpKBSearch, in: `{"query":"x"}`, kb: kb{}},
		{name: "kb not granted", ctx: staff, caller: Caller{Plugin: "p"}, op: sdk.OpKBSearch, in: `{}`, kb: kb{}, code: sdk.CodeCapabilityDenied},
		{name: "kb missing", ctx: staff, caller: all, op: sdk.OpKBSearch, in: `{}`, code: sdk.CodeUnavailable},
		{name: "kb fails", ctx: staff, caller: all, op: sdk.OpKBSearch, in: `{}`, kb: kb{err: errors.New("down")}, code: sdk.CodeUnavailable},
		{name: "kb bad json", ctx: staff, caller: all, op: sdk.OpKBSearch, in: `[`, kb: kb{}, code: sdk.CodeInvalidInput},
		{name: "unknown op", ctx: staff, caller: all, op: "patients.delete", in: `{}`, code: sdk.CodeUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Services{KB: tc.kb}
			if tc.pts != nil {
				s.Patients = tc.pts
			}
			if tc.aud != nil {
				s.Audit = tc.aud
			}
			var denied []string
			tc.caller.OnDenied = func(r string) { denied = append(denied, r) }
			var list sdk.PatientList
			err := result(t, New(s).Call(tc.ctx, tc.caller, tc.op, []byte(tc.in)), &list)
			if tc.code == "" {
				require.NoError(t, err)
				assert.Len(t, list.Patients, tc.returned)
			} else {
				assert.Equal(t, tc.code, sdk.CodeOf(err), "%v", err)
			}
			assert.Equal(t, tc.code == sdk.CodeCapabilityDenied, len(denied) == 1)
			if tc.aud != nil {
				require.Len(t, tc.aud.events, tc.audits)
				if tc.audits > 0 {
					ev := tc.aud.events[0]
					assert.Equal(t, tc.outcome, ev.Outcome)
					assert.Equal(t, "plugin.patients.search", ev.Action)
					assert.Equal(t, "patient", ev.Resource)
					assert.Contains(t, ev.Detail, "plugin p")
				}
			}
		})
	}
}

func TestAuditCarriesActorNotPHI(t *testing.T) {
	ctx := actor.With(context.Background(), actor.Actor{UserID: "user:7", Role: actor.RoleStaff, RequestID: "r1", IP: "10.0.0.1"})
	aud := &auditor{}
	pts := &patients{list: sdk.PatientList{Patients: []sdk.PatientSummary{{ID: "patient:1", MRN: "MRN-SECRET", FirstName: "Ada", LastName: "Lovelace"}}, Total: 1}}
	d := New(Services{Patients: pts, Audit: aud})
	env := d.Call(ctx, Caller{Plugin: "p", Capabilities: []string{sdk.CapPatientsRead}}, sdk.OpPatientsSearch, []byte(`{"text":"ada"}`))
	var list sdk.PatientList
	require.NoError(t, sdk.DecodeEnvelope(env, &list))
	assert.Equal(t, MaxPatients, pts.got.Limit, "limit defaulted and capped")
	ev := aud.events[0]
	assert.Equal(t, audit.Event{Actor: "user:7", Role: "staff", Action: "plugin.patients.search", Resource: "patient", Outcome: "success", RequestID: "r1", IP: "10.0.0.1",
		Detail: "plugin p; 1 of 1 records: patient:1"}, ev)
	b, _ := json.Marshal(ev)
	for _, phi := range []string{"MRN-SECRET", "Ada", "Lovelace"} {
		assert.NotContains(t, string(b), phi)
	}
}

type sink struct{ lines []string }

func (s *sink) Write(b []byte) (int, error) { s.lines = append(s.lines, string(b)); return len(b), nil }

func TestLogAndRedact(t *testing.T) {
	out := &sink{}
	d := New(Services{Logger: newTextLogger(out)})
	var denied []string
	c := Caller{Plugin: "p", OnDenied: func(r string) { denied = append(denied, r) }}
	d.Log(context.Background(), c, sdk.LogInfo, "dropped")
	assert.Empty(t, out.lines)
	assert.Len(t, denied, 1)
	c.Capabilities = []string{sdk.CapLog}
	d.Log(context.Background(), c, sdk.LogWarn, "mail jane.doe@example.com re MRN 12345678 dob 1970-01-02 tel +1 (555) 123-4567")
	d.Output(context.Background(), c, "stderr", "panic: 03/04/1999")
	all := strings.Join(out.lines, "")
	assert.Contains(t, all, "mail [email] re MRN [number] dob [date] tel [number]")
	assert.Contains(t, all, "panic: [date]")
	assert.Contains(t, all, "plugin=p")
	assert.Contains(t, all, "source=guest")
	assert.Len(t, Redact(strings.Repeat("a", 2000)), MaxLogLine+len("…"))
	assert.Equal(t, "id [id]", Redact("id AB12345"))
	New(Services{}).Log(context.Background(), c, sdk.LogInfo, "discarded without a logger")

	// A refusal whose audit cannot be stored is logged.
	d = New(Services{Logger: newTextLogger(out), Audit: &auditor{err: errors.New("down")}})
	d.Call(context.Background(), Caller{Plugin: "p"}, sdk.OpPatientsSearch, []byte(`{}`))
	assert.Contains(t, strings.Join(out.lines, ""), "audit plugin host call")
}
