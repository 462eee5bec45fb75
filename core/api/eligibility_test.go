package api

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
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/eligibility"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/eligibilitytest"
)

type eligibilityEnv struct {
	srv      *Server
	ins      *eligibilitytest.Env
	patients *patient.Service
	audit    *audit.Log
	tokens   map[actor.Role][]string
}

// newEligibilityServer serves the eligibility routes with the real
// insurance-x12 plugin process pointed at the stub insurer.
func newEligibilityServer(t *testing.T, o eligibilitytest.Options) *eligibilityEnv {
	t.Helper()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	ps, err := patient.New(context.Background(), db, log, patient.WithoutLive())
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	ins := eligibilitytest.Start(t, o)
	svc, err := eligibility.New(eligibility.Deps{DB: db, Patients: ps, Checker: ins.Registry, Audit: log, Jobs: jobs.New(db, jobs.Options{Logger: quiet})}, eligibility.Options{})
	require.NoError(t, err)
	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 1 << 30})
	cfg := testConfig(t)
	cfg.APIRateLimit = 1 << 30
	srv := New(Deps{Logger: quiet, Config: cfg, DB: db, Services: Services{Auth: au, Audit: log, Patients: ps, Eligibility: svc}})
	e := &eligibilityEnv{srv: srv, ins: ins, patients: ps, audit: log, tokens: map[actor.Role][]string{}}
	sys := actor.System(context.Background())
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		_, err := au.CreateUser(sys, auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, Password: apiTestPassword})
		require.NoError(t, err)
		ctx := actor.With(context.Background(), actor.Actor{RequestID: "elig-test", IP: "192.0.2.10"})
		sess, err := au.Login(ctx, string(r)+"@x.example", apiTestPassword)
		require.NoError(t, err)
		e.tokens[r] = []string{"Authorization", "Bearer " + sess.Token}
	}
	return e
}

func (e *eligibilityEnv) patient(t *testing.T, payer, member string) string {
	t.Helper()
	p, err := e.patients.Create(actor.System(context.Background()), patient.Input{MRN: "MRN-" + strings.ToLower(member) + "x", FirstName: "Janelle",
		LastName: "Quixote", DateOfBirth: "1980-02-29", Sex: "female", Insurance: patient.Insurance{Payer: payer, MemberID: member}})
	require.NoError(t, err)
	return p.ID
}

// checkResult is the API's answer, decoded independently of the Go type.
type checkResult struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Payer    string `json:"payer"`
	Plan     string `json:"plan"`
	MemberID string `json:"member_id"`
	Coverage struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"coverage"`
	Benefits []struct {
		ServiceType   string   `json:"service_type"`
		Description   string   `json:"description"`
		CoverageLevel string   `json:"coverage_level"`
		InNetwork     *bool    `json:"in_network"`
		Copay         *float64 `json:"copay"`
		Coinsurance   *float64 `json:"coinsurance"`
	} `json:"benefits"`
	Rejection *struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"rejection"`
	ControlNumber string     `json:"control_number"`
	CheckedAt     time.Time  `json:"checked_at"`
	RetryAt       *time.Time `json:"retry_at"`
}

func TestEligibilityAPIEveryStubCase(t *testing.T) {
	e := newEligibilityServer(t, eligibilitytest.Options{Timeout: 2 * time.Second})
	app := e.srv.App()
	staff := e.tokens[actor.RoleStaff]

	cases := []struct {
		member     string
		status     int
		want       string
		rejection  string
		check      func(t *testing.T, r checkResult)
		detailHint string
	}{
		{member: "ACT500", status: 200, want: "active", check: func(t *testing.T, r checkResult) {
			assert.Equal(t, "STUB GOLD PPO", r.Plan)
			assert.Equal(t, "2026-01-01", r.Coverage.Start)
			assert.Equal(t, "2026-12-31", r.Coverage.End)
			assert.Equal(t, "ACT500", r.MemberID)
			assert.Len(t, r.ControlNumber, 9)
			var office bool
			for _, b := range r.Benefits {
				if b.ServiceType == "98" && b.Copay != nil {
					office = true
					assert.Equal(t, 20.0, *b.Copay)
					require.NotNil(t, b.InNetwork)
					assert.True(t, *b.InNetwork)
					assert.Equal(t, "IND", b.CoverageLevel)
				}
			}
			assert.True(t, office, "the office co-payment is listed")
		}},
		{member: "INA500", status: 200, want: "inactive"},
		{member: "NF500", status: 200, want: "not_found", rejection: "75"},
		{member: "BUSY500", status: 200, want: "error", rejection: "42", check: func(t *testing.T, r checkResult) {
			assert.NotNil(t, r.RetryAt, "a busy payer is asked again from the job queue")
		}},
		{member: "BAD500", status: 200, want: "error", rejection: "invalid_response", check: func(t *testing.T, r checkResult) {
			assert.Empty(t, r.Benefits, "nothing is read from a garbled 271")
		}},
		{member: "SLOW500", status: 504, want: "error", rejection: "timeout", detailHint: "did not answer in time"},
	}
	for _, c := range cases {
		t.Run(c.member, func(t *testing.T) {
			id := e.patient(t, "Acme Health", c.member)
			res, body := do(t, app, "POST", "/api/v1/patients/"+id+"/eligibility", "", staff...)
			require.Equal(t, c.status, res.StatusCode, "%s", body)
			var r checkResult
			if c.status == 504 {
				var p struct {
					Problem
					Check checkResult `json:"check"`
				}
				require.NoError(t, json.Unmarshal(body, &p))
				assert.Contains(t, p.Detail, c.detailHint)
				assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
				r = p.Check
			} else {
				require.NoError(t, json.Unmarshal(body, &r))
			}
			assert.Equal(t, c.want, r.Status)
			assert.NotEmpty(t, r.ID)
			if c.rejection != "" {
				require.NotNil(t, r.Rejection)
				assert.Equal(t, c.rejection, r.Rejection.Code)
				assert.NotEmpty(t, r.Rejection.Reason)
			} else {
				assert.Nil(t, r.Rejection)
			}
			if c.check != nil {
				c.check(t, r)
			}
			// The check is listed, newest first.
			res, body = do(t, app, "GET", "/api/v1/patients/"+id+"/eligibility", "", staff...)
			require.Equal(t, 200, res.StatusCode)
			var list struct {
				Items []checkResult `json:"items"`
			}
			require.NoError(t, json.Unmarshal(body, &list))
			require.Len(t, list.Items, 1)
			assert.Equal(t, r.ID, list.Items[0].ID)
			assert.Equal(t, c.want, list.Items[0].Status)
		})
	}
}

func TestEligibilityAPIRefusals(t *testing.T) {
	e := newEligibilityServer(t, eligibilitytest.Options{})
	app := e.srv.App()
	id := e.patient(t, "Acme Health", "ACT600")

	// An auditor may not check (or list), and nothing is checked.
	res, _ := do(t, app, "POST", "/api/v1/patients/"+id+"/eligibility", "", e.tokens[actor.RoleAuditor]...)
	assert.Equal(t, 403, res.StatusCode)
	res, _ = do(t, app, "GET", "/api/v1/patients/"+id+"/eligibility", "", e.tokens[actor.RoleAuditor]...)
	assert.Equal(t, 403, res.StatusCode)
	assert.Equal(t, 0, e.ins.Insurer.Received(), "no 270 was sent")

	// No payer or member id: 422 naming the fields.
	bare := e.patient(t, "", "")
	res, body := do(t, app, "POST", "/api/v1/patients/"+bare+"/eligibility", "", e.tokens[actor.RoleStaff]...)
	require.Equal(t, 422, res.StatusCode, "%s", body)
	var p Problem
	require.NoError(t, json.Unmarshal(body, &p))
	fields := []string{}
	for _, f := range p.Errors {
		fields = append(fields, f.Field)
	}
	assert.ElementsMatch(t, []string{"insurance.payer", "insurance.member_id"}, fields)

	res, _ = do(t, app, "POST", "/api/v1/patients/no-such-patient/eligibility", "", e.tokens[actor.RoleStaff]...)
	assert.Equal(t, 404, res.StatusCode)

	// The raw X12: admins only, audited.
	res, body = do(t, app, "POST", "/api/v1/patients/"+id+"/eligibility", "", e.tokens[actor.RoleStaff]...)
	require.Equal(t, 200, res.StatusCode, "%s", body)
	var r checkResult
	require.NoError(t, json.Unmarshal(body, &r))
	res, _ = do(t, app, "GET", "/api/v1/eligibility/"+r.ID+"/x12", "", e.tokens[actor.RoleStaff]...)
	assert.Equal(t, 403, res.StatusCode)
	res, body = do(t, app, "GET", "/api/v1/eligibility/"+r.ID+"/x12", "", e.tokens[actor.RoleAdmin]...)
	require.Equal(t, 200, res.StatusCode, "%s", body)
	var x struct {
		Request, Response string
	}
	require.NoError(t, json.Unmarshal(body, &x))
	assert.Contains(t, x.Request, "ST*270*")
	assert.Contains(t, x.Response, "ST*271*")
	page, err := e.audit.List(actor.System(context.Background()), audit.Filter{Action: "eligibility.x12.read", Record: r.ID})
	require.NoError(t, err)
	require.NotEmpty(t, page.Items)
	assert.Equal(t, audit.OutcomeSuccess, page.Items[0].Outcome)
}

// The plugin process dies while a check waits on the insurer: the
// check fails with a clear 503, and once the host has restarted the
// plugin the next check works.
func TestEligibilityAPIPluginKilledMidCheck(t *testing.T) {
	e := newEligibilityServer(t, eligibilitytest.Options{Timeout: 20 * time.Second})
	app := e.srv.App()
	staff := e.tokens[actor.RoleStaff]
	slow := e.patient(t, "Acme Health", "SLOW700")
	active := e.patient(t, "Acme Health", "ACT700")

	type answer struct {
		status int
		body   []byte
	}
	done := make(chan answer, 1)
	go func() {
		res, body := do(t, app, "POST", "/api/v1/patients/"+slow+"/eligibility", "", staff...)
		done <- answer{res.StatusCode, body}
	}()
	require.Eventually(t, func() bool { return e.ins.Insurer.Received() == 1 }, 20*time.Second, 10*time.Millisecond,
		"the 270 reached the insurer: the check is in flight")
	e.ins.Kill(t)
	a := <-done
	require.Equal(t, 503, a.status, "%s", a.body)
	var p Problem
	require.NoError(t, json.Unmarshal(a.body, &p))
	assert.Contains(t, p.Detail, "insurance adapter is not available")

	require.Eventually(t, func() bool {
		res, body := do(t, app, "POST", "/api/v1/patients/"+active+"/eligibility", "", staff...)
		if res.StatusCode != 200 {
			return false
		}
		var r checkResult
		return json.Unmarshal(body, &r) == nil && r.Status == "active"
	}, 30*time.Second, 100*time.Millisecond, "the next check works once the plugin is restarted")
}
