package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient"
)

// The route x role table of the pages: the server refuses whatever the
// navigation showed.
func TestPageRoles(t *testing.T) {
	f := newFixture(t, fixtureOpts{base: "/pfinni", patients: 30})
	provs, err := f.patients.ListProviders(staffCtx(f))
	require.NoError(t, err)
	// The patient is in the provider user's panel (another panel's is a 404: panel_test.go).
	page, err := f.patients.List(staffCtx(f), patient.Filter{Limit: 1, ProviderID: provs[0].ID})
	require.NoError(t, err)
	pid := page.Items[0].ID
	f.providerUser(provs[0].ID)
	clients := map[string]*client{
		"admin": f.client().login(adminEmail), "staff": f.client().login(staffEmail), "auditor": f.client().login(auditorEmail),
		"provider": f.client().login(providerEmail),
	}
	anon := f.client()
	cases := []struct {
		path    string
		allowed []string
	}{
		{"/", []string{"admin", "staff", "provider"}},
		{"/patients", []string{"admin", "staff", "provider"}},
		{"/patients?status=active&sort=-created_at", []string{"admin", "staff", "provider"}},
		{"/patients/new", []string{"admin", "staff", "provider"}},
		{"/patients/" + pid, []string{"admin", "staff", "provider"}},
		{"/patients/" + pid + "/edit", []string{"admin", "staff", "provider"}},
		{"/providers", []string{"admin", "staff"}},
		{"/providers/" + provs[0].ID, []string{"admin", "staff"}},
		{"/imports", []string{"admin", "staff"}},
		{"/audit", []string{"admin", "auditor"}},
		{"/audit/verify", []string{"admin", "auditor"}},
		{"/admin/users", []string{"admin"}},
		{"/admin/plugins", []string{"admin"}},
		{"/admin/settings", []string{"admin"}},
		{"/help", []string{"admin", "staff", "provider", "auditor"}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			r := anon.get(tc.path)
			assert.Equal(t, http.StatusSeeOther, r.status, "anonymous goes to sign-in")
			assert.Contains(t, r.header.Get("Location"), "/pfinni/login")
			for role, c := range clients {
				r := c.get(tc.path)
				if contains(tc.allowed, role) {
					assert.Equal(t, http.StatusOK, r.status, "%s: %s", role, r.body)
				} else if tc.path == "/" && role == "auditor" {
					assert.Equal(t, http.StatusSeeOther, r.status)
					assert.Equal(t, "/pfinni/audit", r.header.Get("Location"))
				} else {
					assert.Equal(t, http.StatusForbidden, r.status, role)
					assert.Contains(t, r.body, "You don&#39;t have access to this page")
				}
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func staffCtx(f *fixture) context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: "test", Role: actor.RoleStaff, RequestID: "test-req"})
}

func TestLogin(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	cases := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"wrong password", url.Values{"email": {staffEmail}, "password": {"wrong-password-here"}}, 401, "email or password is not right"},
		{"unknown email", url.Values{"email": {"nobody@example.org"}, "password": {"wrong-password-here"}}, 401, "email or password is not right"},
		{"empty", url.Values{}, 422, "Enter your email and password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.client().do(http.MethodPost, "/login", tc.form)
			assert.Equal(t, tc.status, r.status)
			assert.Contains(t, r.body, tc.want)
		})
	}
	t.Run("lockout", func(t *testing.T) {
		var r resp
		for range 6 {
			r = f.client().do(http.MethodPost, "/login", url.Values{"email": {auditorEmail}, "password": {"wrong-password-here"}})
		}
		assert.Equal(t, http.StatusLocked, r.status)
		assert.Contains(t, r.body, "banner-warn")
		assert.Regexp(t, `(?i)locked`, r.body)
	})
	t.Run("next and sign out", func(t *testing.T) {
		c := f.client()
		r := c.get("/patients?status=active")
		loc := r.header.Get("Location")
		require.Contains(t, loc, "next=%2Fpatients%3Fstatus%3Dactive")
		r = c.get(strings.TrimPrefix(loc, ""))
		assert.Contains(t, r.body, `name="next" value="/patients?status=active"`)
		r = c.do(http.MethodPost, "/login", url.Values{"email": {staffEmail}, "password": {password}, "next": {"/patients?status=active"}})
		assert.Equal(t, "/patients?status=active", r.header.Get("Location"))
		c.get("/help")
		r = c.post("/logout", nil)
		assert.Equal(t, http.StatusSeeOther, r.status)
		assert.Equal(t, "/login?why=signout", r.header.Get("Location"))
		c.cookie = "" // the browser drops the cleared cookie
		assert.Contains(t, c.get("/login?why=signout").body, "You are signed out")
		assert.Contains(t, c.get("/login?why=expired").body, "inactivity")
	})
	t.Run("unsafe next is ignored", func(t *testing.T) {
		r := f.client().do(http.MethodPost, "/login", url.Values{"email": {staffEmail}, "password": {password}, "next": {"//evil.example/"}})
		assert.Equal(t, "/", r.header.Get("Location"))
	})
	t.Run("auditor lands on the audit log", func(t *testing.T) {
		r := f.client().do(http.MethodPost, "/login", url.Values{"email": {adminEmail}, "password": {password}})
		assert.Equal(t, "/", r.header.Get("Location"))
	})
	t.Run("bad cookie", func(t *testing.T) {
		c := f.client()
		c.cookie = "not-a-session"
		r := c.get("/")
		assert.Equal(t, http.StatusSeeOther, r.status)
		r = c.get("/patients", "HX-Request", "true")
		assert.Equal(t, http.StatusUnauthorized, r.status)
		assert.True(t, strings.HasPrefix(r.header.Get("HX-Redirect"), "/login"))
	})
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, fixtureOpts{patients: 5})
	c := f.client().login(staffEmail)
	r := c.post("/patients", url.Values{"_csrf": {"forged"}, "mrn": {"X"}})
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Contains(t, r.body, "security token")
	r = c.do(http.MethodPost, "/patients", url.Values{"mrn": {"X"}}, "X-CSRF-Token", c.csrf)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "header token accepted; validation answers")
}

var idInLocation = regexp.MustCompile(`/patients/([^/?]+)\?notice=`)

func TestPatientPages(t *testing.T) {
	f := newFixture(t, fixtureOpts{patients: 60})
	c := f.client().login(staffEmail)

	t.Run("list, filters and fragments", func(t *testing.T) {
		r := c.get("/patients?status=active&sort=-created_at")
		require.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, r.body, `value="active" checked`)
		assert.Contains(t, r.body, `<option value="-created_at" selected>`)
		assert.Regexp(t, `Showing 1–\d+ of <strong>\d+</strong>`, r.body)
		frag := c.get("/patients?q=smith", "HX-Request", "true", "HX-Target", "results")
		assert.NotContains(t, frag.body, "<html")
		assert.Contains(t, frag.body, `id="result-count"`)
		next := regexp.MustCompile(`href="([^"]*cursor=[^"]*)"`).FindStringSubmatch(c.get("/patients").body)
		require.Len(t, next, 2)
		r = c.get(strings.ReplaceAll(next[1], "&amp;", "&"))
		assert.Contains(t, r.body, "Showing 26–")
		assert.Contains(t, r.body, "First page")
		r = c.get("/patients?birthday_within_days=999")
		assert.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, r.body, "banner-error")
		assert.Contains(t, r.body, "birthday_within_days")
	})

	t.Run("create: field errors, then success", func(t *testing.T) {
		r := c.post("/patients", url.Values{"mrn": {"WEB-1"}, "first_name": {"Maria"}, "date_of_birth": {"2099-01-01"}, "email": {"bad"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.status)
		assert.Contains(t, r.body, `id="f-last_name-error"`)
		assert.Contains(t, r.body, "Last name is required")
		assert.Contains(t, r.body, `id="f-date_of_birth-error"`)
		assert.Regexp(t, `id="f-last_name"[^>]*autofocus`, r.body)
		assert.Contains(t, r.body, `value="Maria"`, "typed values are kept")
		r = c.post("/patients", url.Values{"mrn": {"WEB-1"}, "first_name": {"Maria"}, "last_name": {"Ortega"}, "date_of_birth": {"1984-02-28"},
			"sex": {"female"}, "email": {"maria@example.org"}, "tags": {"vip, new"}})
		require.Equal(t, http.StatusSeeOther, r.status, r.body)
		m := idInLocation.FindStringSubmatch(r.header.Get("Location"))
		require.Len(t, m, 2)
		id := m[1]
		r = c.get("/patients/" + id + "?notice=created")
		assert.Contains(t, r.body, "Patient created.")
		assert.Contains(t, r.body, "Maria Ortega")
		assert.Contains(t, r.body, `<span class="tag">vip</span>`)

		r = c.post("/patients", url.Values{"mrn": {"WEB-1"}, "first_name": {"A"}, "last_name": {"B"}, "date_of_birth": {"1984-02-28"}})
		assert.Contains(t, []int{409, 422}, r.status, "duplicate MRN")

		r = c.get("/patients/" + id + "/edit")
		require.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, r.body, `name="version" value="1"`)
		form := url.Values{"version": {"1"}, "mrn": {"WEB-1"}, "first_name": {"Mariana"}, "last_name": {"Ortega"}, "date_of_birth": {"1984-02-28"}, "sex": {"female"}}
		r = c.post("/patients/"+id, form)
		require.Equal(t, http.StatusSeeOther, r.status, r.body)
		r = c.post("/patients/"+id, form)
		assert.Equal(t, http.StatusConflict, r.status, "stale version: %s", r.body[strings.Index(r.body, "<main"):])
		form.Set("version", "2")
		form.Set("date_of_birth", "1984-02-31")
		r = c.post("/patients/"+id, form)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.header.Get("Location"))
		assert.Contains(t, r.body, `id="f-date_of_birth-error"`)

		t.Run("status", func(t *testing.T) {
			r := c.get("/patients/" + id)
			assert.Contains(t, r.body, `value="active"`)
			assert.Contains(t, r.body, `value="churned"`)
			assert.NotContains(t, r.body, `name="to" value="inactive"`)
			r = c.post("/patients/"+id+"/status", url.Values{"version": {"2"}, "to": {"churned"}})
			assert.Equal(t, http.StatusUnprocessableEntity, r.status)
			assert.Contains(t, r.body, "data-open-on-load")
			r = c.post("/patients/"+id+"/status", url.Values{"version": {"2"}, "to": {"inactive"}})
			assert.Equal(t, http.StatusUnprocessableEntity, r.status, "forbidden transition")
			assert.Contains(t, r.body, "allowed: active, churned")
			r = c.post("/patients/"+id+"/status", url.Values{"version": {"2"}, "to": {"active"}})
			require.Equal(t, http.StatusSeeOther, r.status, r.body)
			r = c.get("/patients/" + id + "?notice=status")
			assert.Contains(t, r.body, "Status changed.")
			assert.Contains(t, r.body, "tl-status")
		})
	})

	t.Run("bulk status with confirmation", func(t *testing.T) {
		page, err := f.patients.List(staffCtx(f), patient.Filter{Statuses: []patient.Status{patient.StatusActive}, Limit: 2})
		require.NoError(t, err)
		ids := []string{page.Items[0].ID, page.Items[1].ID}
		form := url.Values{"ids": ids, "to": {"inactive"}, "back": {"/patients?status=active"}}
		r := c.post("/patients/bulk-status", form)
		require.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, r.body, "Confirm: change 2 patients")
		form.Set("confirm", "yes")
		r = c.post("/patients/bulk-status", form)
		assert.Equal(t, 2, strings.Count(r.body, "outcome-success"), r.body)
		got, err := f.patients.Get(staffCtx(f), ids[0])
		require.NoError(t, err)
		assert.Equal(t, patient.StatusInactive, got.Status)
		r = c.post("/patients/bulk-status", url.Values{"to": {"inactive"}})
		assert.Contains(t, r.body, "Select at least one patient")
		r = c.post("/patients/bulk-status", url.Values{"ids": {ids[0]}, "to": {"churned"}, "confirm": {"yes"}, "back": {"//evil"}})
		assert.Contains(t, r.body, "outcome-failure", "churn needs a reason")
		assert.Contains(t, r.body, `href="/patients"`)
	})

	t.Run("detail of an unknown patient", func(t *testing.T) {
		r := c.get("/patients/p_nobody")
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.Contains(t, r.body, "Page not found")
	})

	t.Run("providers", func(t *testing.T) {
		r := c.get("/providers")
		require.Equal(t, http.StatusOK, r.status)
		m := regexp.MustCompile(`href="/providers/([^"]+)"`).FindStringSubmatch(r.body)
		require.Len(t, m, 2)
		r = c.get("/providers/" + m[1])
		assert.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, r.body, "Open in the patient list")
	})

	t.Run("dashboard", func(t *testing.T) {
		r := f.client().login(adminEmail).get("/")
		require.Equal(t, http.StatusOK, r.status)
		for _, s := range []string{"All patients", `<svg class="chart"`, "Upcoming birthdays", "Stuck in onboarding", "Recently updated", "Needs attention", "stub-trap", `hx-get="/activity"`} {
			assert.Contains(t, r.body, s)
		}
	})
}

func TestActivityFragment(t *testing.T) {
	f := newFixture(t, fixtureOpts{patients: 5})
	c := f.client().login(adminEmail)
	c.post("/patients", url.Values{"mrn": {"A-1"}, "first_name": {"A"}, "last_name": {"B"}, "date_of_birth": {"1980-01-01"}})
	r := c.get("/activity", "HX-Request", "true", "HX-Target", "activity")
	require.Equal(t, http.StatusOK, r.status)
	assert.NotContains(t, r.body, "<html")
	assert.Contains(t, r.body, "patient.create")
	assert.NotContains(t, r.body, "patient.list", "reads are left out")
	assert.Contains(t, r.body, "Ann Admin (admin@example.org)")
	assert.Equal(t, http.StatusForbidden, f.client().login(staffEmail).get("/activity").status)
}
