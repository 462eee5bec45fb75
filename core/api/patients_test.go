package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/core/views"
)

// patientEnv serves the patient and provider API on a real database with
// the real auth service, and a bearer token per role. Patient events go
// to aud (the real audit log unless the test gives another Auditor).
type patientEnv struct {
	srv    *Server
	db     *store.DB
	svc    *patient.Service
	log    *audit.Log
	tokens map[actor.Role]string
}

func newPatientEnv(t testing.TB, aud patient.Auditor, opts ...patient.Option) *patientEnv {
	t.Helper()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	if aud == nil {
		aud = log
	}
	svc, err := patient.New(context.Background(), db, aud, append([]patient.Option{patient.WithLogger(quiet)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 10_000})
	cfg := testConfig(t)
	cfg.APIRateLimit = 1 << 30
	env := &patientEnv{db: db, svc: svc, log: log, tokens: map[actor.Role]string{}}
	views := views.New(db, log, views.WithLocation(svc.Location()))
	env.srv = New(Deps{Logger: quiet, Config: cfg, DB: db, Services: Services{Auth: au, Audit: log, Patients: svc, Views: views}})
	sys := actor.System(context.Background())
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		_, err := au.CreateUser(sys, auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, Password: apiTestPassword})
		require.NoError(t, err)
		res, body := do(t, env.srv.App(), "POST", "/api/v1/auth/login", `{"email":"`+string(r)+`@x.example","password":"`+apiTestPassword+`"}`)
		require.Equal(t, 200, res.StatusCode, string(body))
		var s sessionResponse
		require.NoError(t, json.Unmarshal(body, &s))
		env.tokens[r] = s.Token
	}
	return env
}

func (e *patientEnv) as(r actor.Role, extra ...string) []string {
	if r == "" {
		return extra
	}
	return append([]string{"Authorization", "Bearer " + e.tokens[r]}, extra...)
}

// call sends a request as role and decodes a JSON answer into out (if not nil).
func (e *patientEnv) call(t testing.TB, role actor.Role, method, path, body string, out any, hdr ...string) int {
	t.Helper()
	res, b := do(t, e.srv.App(), method, path, body, e.as(role, hdr...)...)
	if out != nil && len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
	return res.StatusCode
}

const annJSON = `{"mrn":"MRN-1","first_name":"Annabel","last_name":"Leeward","date_of_birth":"1984-02-29","sex":"female",
"phone":"(212) 555-0142","email":"annabel@example.org","address":{"line1":"9 Elm St","city":"Boston","state":"MA","postal_code":"02101","country":"US"},
"insurance":{"payer":"Aetna","member_id":"M1","group":"G"},"tags":["vip"]}`

func (e *patientEnv) createAnn(t testing.TB) patient.Patient {
	t.Helper()
	var p patient.Patient
	require.Equal(t, 201, e.call(t, actor.RoleStaff, "POST", "/api/v1/patients", annJSON, &p))
	return p
}

func TestPatientRoutesByRole(t *testing.T) {
	env := newPatientEnv(t, nil)
	p := env.createAnn(t)
	var prov patient.Provider
	require.Equal(t, 201, env.call(t, actor.RoleAdmin, "POST", "/api/v1/providers", `{"name":"Dr. Who"}`, &prov))
	routes := []struct {
		method, path, body string
		ok                 int
		adminOnly          bool
	}{
		{"GET", "/api/v1/patients", "", 200, false},
		{"POST", "/api/v1/patients", `{"mrn":"X-%s","first_name":"A","last_name":"B"}`, 201, false},
		{"GET", "/api/v1/patients/stats", "", 200, false},
		{"GET", "/api/v1/patients/workflow", "", 200, false},
		{"GET", "/api/v1/patients/" + p.ID, "", 200, false},
		{"PATCH", "/api/v1/patients/" + p.ID, `{"language":"%s"}`, 200, false},
		{"POST", "/api/v1/patients/" + p.ID + "/status", `{"to":"%s"}`, 200, false},
		{"GET", "/api/v1/patients/" + p.ID + "/history", "", 200, false},
		{"GET", "/api/v1/providers", "", 200, false},
		{"POST", "/api/v1/providers", `{"name":"Dr. %s"}`, 201, false},
		{"GET", "/api/v1/providers/" + prov.ID, "", 200, false},
		{"PATCH", "/api/v1/providers/" + prov.ID, `{"specialty":"%s"}`, 200, false},
		{"DELETE", "/api/v1/patients/" + p.ID, "", 204, true},
	}
	roles := []actor.Role{"", actor.RoleAuditor, actor.RoleStaff, actor.RoleAdmin}
	statuses := map[actor.Role]string{actor.RoleStaff: "active", actor.RoleAdmin: "inactive"}
	for _, r := range routes {
		for _, role := range roles {
			t.Run(r.method+" "+r.path+" as "+string(role), func(t *testing.T) {
				want := r.ok
				switch {
				case role == "":
					want = 401
				case role == actor.RoleAuditor || (r.adminOnly && role != actor.RoleAdmin):
					want = 403
				}
				body := r.body
				if strings.Contains(body, "%s") {
					arg := string(role)
					if strings.Contains(r.path, "/status") {
						arg = statuses[role]
					}
					body = fmt.Sprintf(body, arg)
				}
				var hdr []string
				if r.method == "PATCH" && strings.Contains(r.path, "/patients/") {
					cur, err := env.svc.Get(actor.System(context.Background()), p.ID)
					require.NoError(t, err)
					hdr = []string{"If-Match", fmt.Sprint(cur.Version)}
				}
				res, b := do(t, env.srv.App(), r.method, r.path, body, env.as(role, hdr...)...)
				assert.Equal(t, want, res.StatusCode, string(b))
			})
		}
	}
}

func TestPatientCreateAndShape(t *testing.T) {
	env := newPatientEnv(t, nil)
	res, body := do(t, env.srv.App(), "POST", "/api/v1/patients", annJSON, env.as(actor.RoleStaff)...)
	require.Equal(t, 201, res.StatusCode, string(body))
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	for _, k := range []string{"id", "mrn", "first_name", "last_name", "date_of_birth", "sex", "phone", "email", "address", "language",
		"provider_id", "insurance", "status", "tags", "version", "created_at", "updated_at"} {
		assert.Contains(t, m, k)
	}
	assert.Equal(t, "onboarding", m["status"])
	assert.Equal(t, float64(1), m["version"])
	assert.Equal(t, "1984-02-29", m["date_of_birth"])
	assert.Equal(t, []any{"vip"}, m["tags"])
	assert.ElementsMatch(t, []string{"line1", "line2", "city", "state", "postal_code", "country"}, mapKeys(m["address"].(map[string]any)))
	assert.ElementsMatch(t, []string{"payer", "member_id", "group"}, mapKeys(m["insurance"].(map[string]any)))
	id := m["id"].(string)
	assert.Equal(t, "/api/v1/patients/"+id, res.Header.Get("Location"))
	assert.Equal(t, `"1"`, res.Header.Get("ETag"))

	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"impossible date", strings.Replace(annJSON, `"MRN-1"`, `"MRN-2"`, 1) + "", 0, ""},
		{"feb 31", `{"mrn":"M2","first_name":"A","last_name":"B","date_of_birth":"1984-02-31"}`, 422, "date_of_birth"},
		{"missing names", `{"mrn":"M2"}`, 422, "first_name"},
		{"unknown field", `{"mrn":"M2","first_name":"A","last_name":"B","ssn":"1"}`, 422, "ssn"},
		{"id not settable", `{"id":"p_x","mrn":"M2","first_name":"A","last_name":"B"}`, 422, "id"},
		{"wrong type", `{"mrn":2}`, 422, "mrn"},
		{"duplicate mrn", `{"mrn":"MRN-1","first_name":"A","last_name":"B"}`, 409, "mrn"},
		{"bad provider", `{"mrn":"M3","first_name":"A","last_name":"B","provider_id":"pr_nope"}`, 422, "provider_id"},
		{"malformed", `{"mrn":`, 400, ""},
	}
	for _, c := range cases[1:] {
		t.Run(c.name, func(t *testing.T) {
			res, body := do(t, env.srv.App(), "POST", "/api/v1/patients", c.body, env.as(actor.RoleStaff)...)
			assert.Equal(t, c.status, res.StatusCode, string(body))
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			if c.field != "" {
				pr := problemOfBody(t, body)
				require.NotEmpty(t, pr.Errors, string(body))
				assert.Equal(t, c.field, pr.Errors[0].Field)
			}
			assert.NotContains(t, string(body), "1984-02-31", "messages never echo values")
		})
	}
	assert.Equal(t, 1, env.svc.Count(), "nothing stored")
}

func TestPatientPatchAndStatus(t *testing.T) {
	env := newPatientEnv(t, nil)
	p := env.createAnn(t)
	path := "/api/v1/patients/" + p.ID
	var got patient.Patient
	// If-Match quoted, then bare, then in the body.
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "PATCH", path, `{"address":{"city":"Salem"}}`, &got, "If-Match", `"1"`))
	assert.Equal(t, "Salem", got.Address.City)
	assert.Equal(t, "9 Elm St", got.Address.Line1)
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "PATCH", path, `{"phone":""}`, &got, "If-Match", `2`))
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "PATCH", path, `{"version":3,"insurance":{"group":"H"}}`, &got))
	assert.Equal(t, 4, got.Version)
	assert.Equal(t, "Aetna", got.Insurance.Payer)
	assert.Equal(t, "H", got.Insurance.Group)

	cases := []struct {
		name, body string
		hdr        []string
		status     int
		field      string
	}{
		{"stale", `{"language":"fr"}`, []string{"If-Match", `"1"`}, 409, "version"},
		{"no version", `{"language":"fr"}`, nil, 422, "version"},
		{"bad if-match", `{"language":"fr"}`, []string{"If-Match", "*"}, 400, ""},
		{"unknown field", `{"version":4,"nickname":"x"}`, nil, 422, "nickname"},
		{"status via patch", `{"version":4,"status":"active"}`, nil, 422, "status"},
		{"bad email", `{"version":4,"email":"x@"}`, nil, 422, "email"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := do(t, env.srv.App(), "PATCH", path, c.body, env.as(actor.RoleStaff, c.hdr...)...)
			assert.Equal(t, c.status, res.StatusCode, string(body))
			if c.field != "" {
				pr := problemOfBody(t, body)
				require.NotEmpty(t, pr.Errors, string(body))
				assert.Equal(t, c.field, pr.Errors[0].Field)
			}
		})
	}
	res, _ := do(t, env.srv.App(), "PATCH", "/api/v1/patients/p_nope", `{"version":1,"language":"fr"}`, env.as(actor.RoleStaff)...)
	assert.Equal(t, 404, res.StatusCode)

	st := []struct {
		name, body string
		status     int
		field      string
		detail     string
	}{
		{"forbidden", `{"to":"inactive"}`, 422, "to", "allowed: active, churned"},
		{"unknown", `{"to":"archived"}`, 422, "to", ""},
		{"churn without reason", `{"to":"churned"}`, 422, "reason", ""},
		{"stale", `{"to":"active","version":1}`, 409, "version", ""},
		{"ok", `{"to":"active","version":4}`, 200, "", ""},
		{"churn", `{"to":"churned","reason":"moved"}`, 200, "", ""},
	}
	for _, c := range st {
		t.Run("status "+c.name, func(t *testing.T) {
			res, body := do(t, env.srv.App(), "POST", path+"/status", c.body, env.as(actor.RoleStaff)...)
			assert.Equal(t, c.status, res.StatusCode, string(body))
			if c.field != "" {
				pr := problemOfBody(t, body)
				require.NotEmpty(t, pr.Errors, string(body))
				assert.Equal(t, c.field, pr.Errors[0].Field)
				assert.Contains(t, pr.Errors[0].Message, c.detail)
			}
		})
	}
	var h patient.History
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", path+"/history", "", &h))
	require.Len(t, h.StatusChanges, 3, "%+v", h.StatusChanges)
	assert.Equal(t, patient.StatusChurned, h.StatusChanges[0].To)
	assert.Equal(t, "moved", h.StatusChanges[0].Reason)
	assert.Len(t, h.Changes, 6)

	var wf struct {
		Transitions []patient.Transition `json:"transitions"`
	}
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients/workflow", "", &wf))
	assert.Equal(t, patient.Transitions(), wf.Transitions)

	// Delete with a stale If-Match, then for real.
	res, _ = do(t, env.srv.App(), "DELETE", path, "", env.as(actor.RoleAdmin, "If-Match", `"1"`)...)
	assert.Equal(t, 409, res.StatusCode)
	res, _ = do(t, env.srv.App(), "DELETE", path, "", env.as(actor.RoleAdmin, "If-Match", "x")...)
	assert.Equal(t, 400, res.StatusCode)
	res, _ = do(t, env.srv.App(), "DELETE", path, "", env.as(actor.RoleAdmin)...)
	assert.Equal(t, 204, res.StatusCode)
	res, _ = do(t, env.srv.App(), "GET", path, "", env.as(actor.RoleAdmin)...)
	assert.Equal(t, 404, res.StatusCode)
}

func TestPatientListAPI(t *testing.T) {
	env := newPatientEnv(t, nil)
	sys := actor.System(context.Background())
	require.NoError(t, patient.Seed(sys, env.svc, 300, 7))
	type page struct {
		Items      []patient.Patient `json:"items"`
		Total      int               `json:"total"`
		NextCursor string            `json:"next_cursor"`
	}
	var all page
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients?limit=200", "", &all))
	assert.Equal(t, 300, all.Total)
	assert.Len(t, all.Items, 200)
	require.NotEmpty(t, all.NextCursor)
	var rest page
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients?limit=200&cursor="+url.QueryEscape(all.NextCursor), "", &rest))
	assert.Len(t, rest.Items, 100)
	assert.Empty(t, rest.NextCursor)
	seen := map[string]bool{}
	for _, p := range append(all.Items, rest.Items...) {
		assert.False(t, seen[p.ID])
		seen[p.ID] = true
	}
	assert.True(t, slices.IsSortedFunc(all.Items, func(a, b patient.Patient) int {
		return strings.Compare(strings.ToLower(a.LastName), strings.ToLower(b.LastName))
	}))

	var active page
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients?status=active,inactive&sort=-created_at&limit=5", "", &active))
	assert.Len(t, active.Items, 5)
	assert.Greater(t, active.Total, 150)
	for _, p := range active.Items {
		assert.Contains(t, []patient.Status{patient.StatusActive, patient.StatusInactive}, p.Status)
	}
	target := all.Items[17]
	typo := []rune(strings.ToLower(target.LastName))
	if len(typo) >= 5 {
		typo[2], typo[3] = typo[3], typo[2]
	}
	var found page
	q := url.QueryEscape(target.FirstName + " " + string(typo))
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients?q="+q, "", &found))
	require.NotEmpty(t, found.Items)
	assert.True(t, slices.ContainsFunc(found.Items, func(p patient.Patient) bool { return p.ID == target.ID }), "typo search finds %s", target.ID)

	var bday page
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients?birthday_within_days=30&sort=birthday", "", &bday))
	assert.Greater(t, bday.Total, 5)

	for _, bad := range []string{"status=gone", "limit=0", "sort=ssn", "cursor=zzz", "stauts=active", "created_from=yesterday", "missing=dob"} {
		res, body := do(t, env.srv.App(), "GET", "/api/v1/patients?"+bad, "", env.as(actor.RoleStaff)...)
		assert.Equal(t, 400, res.StatusCode, bad)
		assert.Contains(t, string(body), strings.Split(bad, "=")[0], bad)
	}

	var st patient.Stats
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients/stats", "", &st))
	assert.Equal(t, 300, st.Total)

	// Reads are audited in the database, with no PHI.
	ctx := actor.With(context.Background(), actor.Actor{UserID: "x", Role: actor.RoleAuditor})
	events, err := env.log.List(ctx, audit.Filter{Action: "patient.list", Limit: 100})
	require.NoError(t, err)
	require.NotEmpty(t, events.Items)
	assert.Equal(t, "results=200 total=300", events.Items[len(events.Items)-1].Detail)
	for _, e := range events.Items {
		assert.NotContains(t, e.Detail, target.LastName)
	}
}

func TestPatientAPIAuditDown(t *testing.T) {
	aud := &failingAuditor{}
	env := newPatientEnv(t, aud)
	p := env.createAnn(t)
	aud.fail = true
	for _, path := range []string{"/api/v1/patients", "/api/v1/patients/" + p.ID, "/api/v1/patients/" + p.ID + "/history"} {
		res, body := do(t, env.srv.App(), "GET", path, "", env.as(actor.RoleStaff)...)
		assert.Equal(t, 503, res.StatusCode, path)
		assert.NotContains(t, string(body), "Annabel")
	}
}

type failingAuditor struct{ fail bool }

func (f *failingAuditor) Record(context.Context, audit.Event) error {
	if f.fail {
		return store.ErrUnavailable
	}
	return nil
}

func TestProvidersAPI(t *testing.T) {
	env := newPatientEnv(t, nil)
	var a patient.Provider
	res, body := do(t, env.srv.App(), "POST", "/api/v1/providers", `{"name":"Dr. Ada","npi":"1234567890"}`, env.as(actor.RoleStaff)...)
	require.Equal(t, 201, res.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, &a))
	assert.Equal(t, "/api/v1/providers/"+a.ID, res.Header.Get("Location"))
	assert.Equal(t, 422, env.call(t, actor.RoleStaff, "POST", "/api/v1/providers", `{"name":""}`, nil))
	assert.Equal(t, 422, env.call(t, actor.RoleStaff, "POST", "/api/v1/providers", `{"name":"x","rank":1}`, nil))
	var list struct {
		Items []patient.Provider `json:"items"`
		Total int                `json:"total"`
	}
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/providers", "", &list))
	assert.Equal(t, 1, list.Total)
	var up patient.Provider
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "PATCH", "/api/v1/providers/"+a.ID, `{"specialty":"Geriatrics"}`, &up))
	assert.Equal(t, "Geriatrics", up.Specialty)
	assert.Equal(t, 422, env.call(t, actor.RoleStaff, "PATCH", "/api/v1/providers/"+a.ID, `{"foo":1}`, nil))
	assert.Equal(t, 404, env.call(t, actor.RoleStaff, "GET", "/api/v1/providers/pr_nope", "", nil))
	assert.Equal(t, 404, env.call(t, actor.RoleStaff, "PATCH", "/api/v1/providers/pr_nope", `{"name":"x"}`, nil))

	// A patient names its provider by id.
	var p patient.Patient
	require.Equal(t, 201, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients", `{"mrn":"Z1","first_name":"Z","last_name":"Y","provider_id":"`+a.ID+`"}`, &p))
	assert.Equal(t, a.ID, p.ProviderID)
}

func TestPatientRoutesNeedTheService(t *testing.T) {
	s := New(Deps{Logger: quiet, Config: testConfig(t)})
	for _, path := range []string{"/api/v1/patients", "/api/v1/providers"} {
		res, _ := do(t, s.App(), "GET", path, "")
		assert.Equal(t, 404, res.StatusCode)
	}
}
