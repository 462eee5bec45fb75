package dashboard_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/dashboard"
)

func TestAuditPages(t *testing.T) {
	f := newFixture(t, fixtureOpts{base: "/pfinni"})
	c := f.client().login(auditorEmail)
	r := c.get("/audit")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, "auth.login")
	assert.Contains(t, r.body, `href="/pfinni/api/v1/audit/export.csv"`)
	assert.Contains(t, r.body, `hx-get="/pfinni/audit/verify"`)

	r = c.get("/audit?action=auth.login&outcome=success")
	assert.Contains(t, r.body, "export.csv?action=auth.login&amp;outcome=success")
	r = c.get("/audit?from=yesterday")
	assert.Contains(t, r.body, "banner-error")

	frag := c.get("/audit/verify", "HX-Request", "true", "HX-Target", "verify")
	assert.NotContains(t, frag.body, "<html")
	assert.Contains(t, frag.body, "verify-ok")
	full := c.get("/audit/verify")
	assert.Contains(t, full.body, "<h1>Audit chain check</h1>")

	// Paging: older events through the cursor.
	for range 3 {
		f.client().login(staffEmail)
	}
	adm := f.client().login(adminEmail)
	r = adm.get("/audit")
	assert.Contains(t, r.body, "Sam Staff (staff@example.org)", "admins see names")
}

func TestAdminPages(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	c := f.client().login(adminEmail)

	t.Run("users", func(t *testing.T) {
		r := c.post("/admin/users", url.Values{"name": {"New Person"}, "email": {"new@example.org"}, "role": {"staff"}})
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.Contains(t, r.body, "shown only this once")
		assert.Contains(t, r.body, "new@example.org")
		r = c.post("/admin/users", url.Values{"name": {"Other"}, "email": {"other@example.org"}, "role": {"auditor"}, "password": {"a-fine-long-password"}})
		assert.Equal(t, http.StatusSeeOther, r.status)
		r = c.post("/admin/users", url.Values{"name": {""}, "email": {"bad"}, "role": {"staff"}, "password": {"short"}})
		assert.Equal(t, http.StatusUnprocessableEntity, r.status)
		assert.Contains(t, r.body, "field-error")
		r = c.post("/admin/users", url.Values{"name": {"Dup"}, "email": {"new@example.org"}, "role": {"staff"}})
		assert.Equal(t, http.StatusUnprocessableEntity, r.status)
		assert.Contains(t, r.body, "banner-error")

		users, err := f.auth.ListUsers(actor.With(context.Background(), actor.Actor{UserID: "t", Role: actor.RoleAdmin}))
		require.NoError(t, err)
		var id string
		for _, u := range users {
			if u.Email == "new@example.org" {
				id = u.ID
			}
		}
		require.NotEmpty(t, id)
		for _, op := range []url.Values{{"op": {"role"}, "role": {"auditor"}}, {"op": {"disable"}}, {"op": {"enable"}}} {
			r = c.post("/admin/users/"+id, op)
			assert.Equal(t, http.StatusSeeOther, r.status, op.Encode()+r.body)
		}
		r = c.post("/admin/users/"+id, url.Values{"op": {"reset"}})
		assert.Contains(t, r.body, "New password for")
		r = c.post("/admin/users/"+id, url.Values{"op": {"role"}, "role": {"king"}})
		assert.Equal(t, http.StatusUnprocessableEntity, r.status)
		r = c.post("/admin/users/"+id, url.Values{"op": {"explode"}})
		assert.Equal(t, http.StatusBadRequest, r.status)
	})

	t.Run("plugins", func(t *testing.T) {
		r := c.get("/admin/plugins")
		assert.Contains(t, r.body, `id="plugin-importer-fhir"`)
		r = c.post("/admin/plugins/importer-fhir/disable", nil)
		assert.Equal(t, http.StatusSeeOther, r.status)
		assert.Contains(t, c.get("/admin/plugins").body, "state-disabled")
		r = c.post("/admin/plugins/importer-fhir/enable", nil)
		assert.Equal(t, http.StatusSeeOther, r.status)
		assert.Equal(t, http.StatusNotFound, c.post("/admin/plugins/nope/enable", nil).status)
		assert.Equal(t, http.StatusNotFound, c.post("/admin/plugins/importer-fhir/explode", nil).status)
	})

	t.Run("settings and redirects", func(t *testing.T) {
		r := c.get("/admin/settings")
		assert.Contains(t, r.body, "session_idle_timeout")
		assert.Contains(t, r.body, "(not set)")
		assert.Equal(t, http.StatusSeeOther, c.get("/admin").status)
	})
}

func TestAssetsAndPublicPages(t *testing.T) {
	f := newFixture(t, fixtureOpts{base: "/pfinni"})
	c := f.client()
	r := c.get("/repo")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, "<h2>Repository outline</h2>")
	css := regexp.MustCompile(`href="(/pfinni/assets/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(r.body)
	require.Len(t, css, 2)
	assert.Contains(t, r.body, `<script src="/pfinni/assets/app.js?v=`)

	req := httptest.NewRequest(http.MethodGet, css[1], nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := f.srv.App().Test(req, -1)
	require.NoError(t, err)
	assert.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	assert.Contains(t, res.Header.Get("Cache-Control"), "immutable")
	zr, err := gzip.NewReader(res.Body)
	require.NoError(t, err)
	b, _ := io.ReadAll(zr)
	assert.Equal(t, "body{margin:0}", string(b))
	etag := res.Header.Get("ETag")

	req = httptest.NewRequest(http.MethodGet, "/pfinni/assets/app.css", nil)
	req.Header.Set("If-None-Match", etag)
	res, err = f.srv.App().Test(req, -1)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotModified, res.StatusCode)
	assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"))

	r = c.get("/assets/app.js")
	assert.Equal(t, "console.log('pfinni')", r.body)
	assert.Equal(t, http.StatusNotFound, c.get("/assets/nope.js").status)

	r = c.get("/no/such/page")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Contains(t, r.body, "Page not found")
	// The API keeps answering problem+json.
	r = c.get("/api/v1/no-such")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Contains(t, r.header.Get("Content-Type"), "problem+json")
}

// Without services (a partly wired app) pages say what is missing, and
// without a bundle they are served without script and styles.
func TestWithoutServices(t *testing.T) {
	f := newFixture(t, fixtureOpts{noDeps: true})
	c := f.client()
	r := c.get("/login")
	assert.Equal(t, http.StatusOK, r.status)
	assert.NotContains(t, r.body, "<script")
	assert.NotContains(t, r.body, "stylesheet")
	r = c.do(http.MethodPost, "/login", url.Values{"email": {"a@b.c"}, "password": {"x"}})
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, http.StatusServiceUnavailable, c.get("/patients").status)
	r = c.get("/repo")
	assert.Contains(t, r.body, "has not been built")
}

// Pages reached through a real session but without the service behind
// them answer 503 pages.
func TestMissingServicesSignedIn(t *testing.T) {
	f := newFixture(t, fixtureOpts{onlySessions: true})
	c := f.client().login(adminEmail)
	for _, p := range []string{"/", "/patients", "/patients/new", "/patients/x", "/patients/x/edit", "/providers", "/providers/x", "/audit", "/audit/verify", "/admin/users", "/admin/plugins"} {
		r := c.get(p)
		assert.Equal(t, http.StatusServiceUnavailable, r.status, p)
		assert.Contains(t, r.body, "can&#39;t reach its database", p)
	}
	for _, p := range []string{"/patients", "/patients/x", "/patients/x/status", "/patients/bulk-status", "/admin/users", "/admin/users/x", "/admin/plugins/x/enable"} {
		assert.Equal(t, http.StatusServiceUnavailable, c.post(p, nil).status, p)
	}
}

func TestNewFailsOnBadTemplates(t *testing.T) {
	_, err := dashboard.New(dashboard.Deps{Config: &config.Config{}, Templates: fstest.MapFS{
		"layout.html":     {Data: []byte(`{{define "layout"}}{{template "content" .}}{{end}}`)},
		"partials/x.html": {Data: []byte(`{{define "x"}}{{end}}`)},
		"pages/bad.html":  {Data: []byte(`{{define "content"}}{{.Nope}`)},
	}})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "parse"))
	_, err = dashboard.New(dashboard.Deps{Config: &config.Config{}, Templates: fstest.MapFS{}})
	assert.Error(t, err)
}
