package dashboard_test

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/api"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/dashboard"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/web"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// Passwords of the fixture's users.
const (
	adminEmail   = "admin@example.org"
	staffEmail   = "staff@example.org"
	auditorEmail = "auditor@example.org"
	password     = "a-long-enough-password"
)

// fixture is the API server with the dashboard mounted, on a real
// database with real auth, audit and patient services.
type fixture struct {
	t        *testing.T
	srv      *api.Server
	dash     *dashboard.Dashboard
	auth     *auth.Service
	audit    *audit.Log
	patients *patient.Service
	plugins  *fakePlugins
	base     string
}

type fixtureOpts struct {
	base     string
	patients int
	noDeps   bool
	// onlySessions wires sign-in but no other service.
	onlySessions bool
	// realAssets serves the built bundle (web.Assets) instead of a stand-in.
	realAssets bool
	// now is the sessions' clock; time.Now when nil.
	now func() time.Time
	// eligibility, when set, is the insurance check (eligibility_test.go).
	eligibility func(*fixture, *store.DB) dashboard.Eligibility
	// jobs, when set, is the job queue's admin side (jobs_test.go).
	jobs func(*fixture, *store.DB) dashboard.JobsAdmin
	// webhooks, when set, is the outgoing webhooks' admin side (webhooks_test.go).
	webhooks func(*fixture, *store.DB) dashboard.Webhooks
	// backups, when set, is the backup service (backups_test.go).
	backups func(*fixture, *store.DB) dashboard.Backups
	// views, when set, are the saved views (pins_test.go).
	views func(*fixture, *store.DB) dashboard.SavedViews
	// review, when set, is the identity review queue (review_test.go).
	review func(*fixture, *store.DB) dashboard.Reviews
	// openapi, when set, is the OpenAPI document of the API reference.
	openapi []byte
	// mail, when set, adds the password-link pages (passwords_test.go);
	// it may return nil for e-mail off.
	mail func(*fixture, *store.DB) dashboard.Mailer
}

func newFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	cfg := &config.Config{BasePath: o.base, SecureCookies: "auto", BodyLimitBytes: 1 << 20, ImportMaxBytes: 1 << 20,
		APIRateLimit: 100000, SessionIdleTimeout: 15 * time.Minute, SessionMaxLifetime: time.Hour, LoginMaxFailures: 5,
		LockoutDuration: time.Minute, DataDir: t.TempDir(), DBNamespace: "ns", DBDatabase: "db", LogLevel: "error"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fixture{t: t, base: o.base, plugins: newFakePlugins()}
	f.audit = audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = f.audit.Close(context.Background()) })
	f.auth = auth.New(db, f.audit, auth.Options{Hash: auth.HashParams{Time: 1, Memory: 8 * 1024, Threads: 1}, Now: o.now})
	var err error
	f.patients, err = patient.New(ctx, db, f.audit, patient.WithLogger(log))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.patients.Close() })
	sys := actor.System(ctx)
	for _, u := range []auth.NewUser{
		{Email: adminEmail, Name: "Ann Admin", Role: actor.RoleAdmin, Password: password},
		{Email: staffEmail, Name: "Sam Staff", Role: actor.RoleStaff, Password: password},
		{Email: auditorEmail, Name: "Ada Auditor", Role: actor.RoleAuditor, Password: password},
	} {
		_, err := f.auth.CreateUser(sys, u)
		require.NoError(t, err)
	}
	if o.patients > 0 {
		require.NoError(t, patient.Seed(sys, f.patients, o.patients, 7))
	}
	f.srv = api.New(api.Deps{Config: cfg, Logger: log, Services: api.Services{Auth: f.auth, Audit: f.audit, Patients: f.patients}})
	var assets fs.FS = testAssets()
	if o.realAssets {
		assets = web.Assets()
	}
	deps := dashboard.Deps{Config: cfg, Logger: log, Templates: web.Templates(), Assets: assets,
		Sessions: f.auth, Users: f.auth, Patients: f.patients, Audit: f.audit, Plugins: f.plugins}
	if o.eligibility != nil {
		deps.Eligibility = o.eligibility(f, db)
	}
	if o.jobs != nil {
		deps.Jobs = o.jobs(f, db)
	}
	if o.webhooks != nil {
		deps.Webhooks = o.webhooks(f, db)
	}
	if o.backups != nil {
		deps.Backups = o.backups(f, db)
	}
	if o.views != nil {
		deps.Views = o.views(f, db)
	}
	if o.review != nil {
		deps.Review = o.review(f, db)
	}
	deps.OpenAPI = o.openapi
	if o.mail != nil {
		deps.Passwords = f.auth
		if m := o.mail(f, db); m != nil {
			deps.Mail = m
		}
	}
	if o.onlySessions {
		deps = dashboard.Deps{Config: cfg, Logger: log, Templates: web.Templates(), Assets: assets, Sessions: f.auth}
	}
	if o.noDeps {
		deps = dashboard.Deps{Config: cfg, Templates: web.Templates()}
	}
	f.dash, err = dashboard.New(deps)
	require.NoError(t, err)
	f.srv.SetPageErrors(f.dash.RenderError)
	f.dash.Mount(f.srv.Root())
	return f
}

// testAssets is a stand-in bundle, so tests do not depend on `make web`.
func testAssets() fstest.MapFS {
	return fstest.MapFS{
		"app.js":    {Data: []byte("console.log('pfinni')")},
		"app.css":   {Data: []byte("body{margin:0}")},
		"repo.html": {Data: []byte("<h2>Repository outline</h2><p>core/</p>")},
	}
}

// client is a browser stand-in: it keeps the session cookie and the
// CSRF token of the last page.
type client struct {
	f      *fixture
	cookie string
	csrf   string
}

type resp struct {
	status int
	body   string
	header http.Header
}

func (f *fixture) client() *client { return &client{f: f} }

func (c *client) do(method, path string, form url.Values, hdr ...string) resp {
	c.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, c.f.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.cookie != "" {
		req.Header.Set("Cookie", dashboard.CookieName+"="+c.cookie)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.f.srv.App().Test(req, -1)
	require.NoError(c.f.t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, ck := range res.Cookies() {
		if ck.Name == dashboard.CookieName {
			c.cookie = ck.Value
		}
	}
	s := string(b)
	if i := strings.Index(s, `name="csrf-token" content="`); i >= 0 {
		rest := s[i+len(`name="csrf-token" content="`):]
		c.csrf = rest[:strings.IndexByte(rest, '"')]
	}
	return resp{status: res.StatusCode, body: s, header: res.Header}
}

func (c *client) get(path string, hdr ...string) resp { return c.do(http.MethodGet, path, nil, hdr...) }

// post sends a form with the CSRF token of the last page.
func (c *client) post(path string, form url.Values) resp {
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf)
	}
	return c.do(http.MethodPost, path, form)
}

// login signs in through the form and loads the start page (for its
// CSRF token).
func (c *client) login(email string) *client {
	c.f.t.Helper()
	r := c.do(http.MethodPost, "/login", url.Values{"email": {email}, "password": {password}})
	require.Equal(c.f.t, http.StatusSeeOther, r.status, r.body)
	require.NotEmpty(c.f.t, c.cookie)
	c.get("/help")
	require.NotEmpty(c.f.t, c.csrf)
	return c
}
