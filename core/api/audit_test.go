package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// auditEnv is a server with the real audit log and auth service on a
// real database, and a bearer token per role.
type auditEnv struct {
	srv    *Server
	db     *store.DB
	log    *audit.Log
	tokens map[actor.Role]string
}

func newAuditEnv(t *testing.T) *auditEnv {
	t.Helper()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	svc := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 10_000})
	sys := actor.System(context.Background())
	env := &auditEnv{db: db, log: log, tokens: map[actor.Role]string{}}
	env.srv = New(Deps{Logger: quiet, Config: testConfig(t), DB: db, Services: Services{Auth: svc, Audit: log}})
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		_, err := svc.CreateUser(sys, auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, Password: apiTestPassword})
		require.NoError(t, err)
		res, body := do(t, env.srv.App(), "POST", "/api/v1/auth/login", `{"email":"`+string(r)+`@x.example","password":"`+apiTestPassword+`"}`)
		require.Equal(t, 200, res.StatusCode, string(body))
		var s sessionResponse
		require.NoError(t, json.Unmarshal(body, &s))
		env.tokens[r] = s.Token
	}
	return env
}

func (e *auditEnv) bearer(r actor.Role) []string {
	if r == "" {
		return nil
	}
	return []string{"Authorization", "Bearer " + e.tokens[r]}
}

func TestAuditAPIRoles(t *testing.T) {
	env := newAuditEnv(t)
	paths := []string{"/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/export.csv"}
	want := map[actor.Role]int{"": 401, actor.RoleStaff: 403, actor.RoleAuditor: 200, actor.RoleAdmin: 200}
	for _, p := range paths {
		for role, status := range want {
			t.Run(p+" as "+string(role), func(t *testing.T) {
				res, body := do(t, env.srv.App(), "GET", p, "", env.bearer(role)...)
				assert.Equal(t, status, res.StatusCode, string(body))
			})
		}
	}
	// No route changes or deletes events.
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		for _, p := range []string{"/api/v1/audit", "/api/v1/audit/1"} {
			res, _ := do(t, env.srv.App(), m, p, `{}`, env.bearer(actor.RoleAdmin)...)
			assert.Contains(t, []int{404, 405}, res.StatusCode, m+" "+p)
		}
	}
}

func TestAuditAPIList(t *testing.T) {
	env := newAuditEnv(t)
	staffCtx := actor.With(context.Background(), actor.Actor{UserID: "u_s", Role: actor.RoleStaff})
	for _, rec := range []string{"patient:p1", "patient:p2", "patient:p1"} {
		require.NoError(t, env.log.Record(staffCtx, audit.Event{Action: "patient.read", Resource: "patient", Record: rec, Outcome: audit.OutcomeSuccess}))
	}
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)

	type page struct {
		Items      []audit.Event `json:"items"`
		NextCursor string        `json:"next_cursor"`
	}
	cases := []struct {
		name   string
		query  string
		status int
		field  string
		check  func(t *testing.T, p page)
	}{
		{"by record", "?record=patient:p1", 200, "", func(t *testing.T, p page) {
			require.Len(t, p.Items, 2)
			assert.Greater(t, p.Items[0].Seq, p.Items[1].Seq, "newest first")
			assert.Equal(t, "u_s", p.Items[0].Actor)
			assert.Len(t, p.Items[0].Hash, 64)
			assert.Empty(t, p.NextCursor)
		}},
		{"paged", "?action=patient.read&limit=2", 200, "", func(t *testing.T, p page) {
			require.Len(t, p.Items, 2)
			assert.Equal(t, "p2", strings.TrimPrefix(p.Items[1].Record, "patient:"))
			assert.NotEmpty(t, p.NextCursor)
		}},
		{"time range", "?from=2020-01-01&to=" + tomorrow + "&actor=u_s&outcome=success&resource=patient", 200, "", func(t *testing.T, p page) {
			assert.Len(t, p.Items, 3)
		}},
		{"empty", "?actor=nobody", 200, "", func(t *testing.T, p page) {
			assert.NotNil(t, p.Items)
			assert.Empty(t, p.Items)
		}},
		{"bad limit", "?limit=1000", 422, "limit", nil},
		{"bad from", "?from=last-week", 422, "from", nil},
		{"bad cursor", "?cursor=x", 422, "cursor", nil},
		{"unknown param", "?q=smith", 422, "q", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, env.srv.App(), "GET", "/api/v1/audit"+tc.query, "", env.bearer(actor.RoleAuditor)...)
			require.Equal(t, tc.status, res.StatusCode, string(body))
			if tc.field != "" {
				p := problemOfBody(t, body)
				require.NotEmpty(t, p.Errors)
				assert.Equal(t, tc.field, p.Errors[0].Field)
				assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
				return
			}
			var p page
			require.NoError(t, json.Unmarshal(body, &p))
			tc.check(t, p)
		})
	}

	// Reading is audited, with the reader's request id.
	res, _ := do(t, env.srv.App(), "GET", "/api/v1/audit?record=patient:p2", "", append(env.bearer(actor.RoleAuditor), "X-Request-ID", "req-audit-check-1")...)
	require.Equal(t, 200, res.StatusCode)
	res, body := do(t, env.srv.App(), "GET", "/api/v1/audit?action=audit.read&limit=1&cursor=999999", "", env.bearer(actor.RoleAuditor)...)
	require.Equal(t, 200, res.StatusCode)
	var p page
	require.NoError(t, json.Unmarshal(body, &p))
	require.Len(t, p.Items, 1)
	assert.Equal(t, string(actor.RoleAuditor), p.Items[0].Role)
	assert.Equal(t, "req-audit-check-1", p.Items[0].RequestID)
	assert.Equal(t, "list by record; 1 events", p.Items[0].Detail, "filter names, never values")
}

func TestAuditAPIVerifyAndExport(t *testing.T) {
	env := newAuditEnv(t)
	res, body := do(t, env.srv.App(), "GET", "/api/v1/audit/verify", "", env.bearer(actor.RoleAdmin)...)
	require.Equal(t, 200, res.StatusCode, string(body))
	var rep audit.Report
	require.NoError(t, json.Unmarshal(body, &rep))
	assert.True(t, rep.OK)
	assert.Positive(t, rep.Count, "user creation and logins are in the chain")

	res, body = do(t, env.srv.App(), "GET", "/api/v1/audit/export.csv?action=auth.login", "", env.bearer(actor.RoleAuditor)...)
	require.Equal(t, 200, res.StatusCode, string(body))
	assert.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, res.Header.Get("Content-Disposition"), "audit.csv")
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4, "header and three logins")
	assert.Equal(t, "seq", rows[0][0])
	assert.Equal(t, "auth.login", rows[1][4])

	res, body = do(t, env.srv.App(), "GET", "/api/v1/audit/export.csv?outcome=fine", "", env.bearer(actor.RoleAuditor)...)
	assert.Equal(t, 422, res.StatusCode, string(body))
	assert.Equal(t, "outcome", problemOfBody(t, body).Errors[0].Field)

	// Tampering shows in the API's report.
	require.NoError(t, env.db.Exec(context.Background(), "DELETE audit:2", nil))
	res, body = do(t, env.srv.App(), "GET", "/api/v1/audit/verify", "", env.bearer(actor.RoleAuditor)...)
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, json.Unmarshal(body, &rep))
	assert.False(t, rep.OK)
	require.NotNil(t, rep.Broken)
	assert.Equal(t, int64(2), rep.Broken.Seq)
	assert.Equal(t, audit.ProblemGap, rep.Broken.Problem)
}

// When the read cannot be audited (here: the log is shut down), nothing
// is read: 503.
func TestAuditAPIUnavailable(t *testing.T) {
	env := newAuditEnv(t)
	require.NoError(t, env.log.Close(context.Background()))
	for _, p := range []string{"/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/export.csv"} {
		res, body := do(t, env.srv.App(), "GET", p, "", env.bearer(actor.RoleAdmin)...)
		assert.Equal(t, 503, res.StatusCode, p+": "+string(body))
	}
}
