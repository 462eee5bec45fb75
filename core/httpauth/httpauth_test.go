package httpauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/httpauth"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// sink drops audit events (the audit log is not under test here).
type sink struct{}

func (s *sink) Record(context.Context, audit.Event) error { return nil }

// clock is a settable time source, for session expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const password = "correct horse battery"

type env struct {
	svc   *auth.Service
	clock *clock
	app   *fiber.App
	// refused is the last error a route returned, for errors.Is checks.
	mu      sync.Mutex
	refused error
}

// newEnv serves a few routes behind the login layer configured by cfg,
// with real sessions on a real database and one user per role.
func newEnv(t *testing.T, cfg httpauth.Config) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	e.svc = auth.New(storetest.New(t), &sink{}, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1},
		Now: e.clock.Now, LoginsPerIPPerMinute: 1 << 20})
	sys := actor.System(context.Background())
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		_, err := e.svc.CreateUser(sys, auth.NewUser{Email: string(r) + "@x.example", Name: "T", Role: r, Password: password})
		require.NoError(t, err)
	}
	if cfg.Sessions == nil {
		cfg.Sessions = e.svc
	}
	m := httpauth.New(cfg)
	e.app = fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		e.mu.Lock()
		e.refused = err
		e.mu.Unlock()
		status := http.StatusInternalServerError
		switch {
		case errors.Is(err, fault.ErrUnauthorized):
			status = http.StatusUnauthorized
		case errors.Is(err, fault.ErrForbidden):
			status = http.StatusForbidden
		}
		return c.Status(status).SendString(err.Error())
	}})
	whoami := func(c *fiber.Ctx) error {
		s, ok := httpauth.SessionOf(c)
		a := actor.From(c.UserContext())
		if ok != !a.Anonymous() || (ok && s.User.ID != a.UserID) {
			return errors.New("session and actor disagree")
		}
		return c.SendString(string(a.Role) + "|" + a.UserID)
	}
	e.app.Use(m.Authenticate)
	e.app.Get("/open", whoami)
	e.app.Post("/open", whoami)
	e.app.Post("/login", whoami)
	e.app.Get("/patients", httpauth.Require(httpauth.PatientData), whoami)
	e.app.Get("/users", httpauth.Require(httpauth.AdminOnly), whoami)
	e.app.Get("/audit", httpauth.Require(httpauth.AuditTrail), whoami)
	e.app.Post("/any", httpauth.Require(httpauth.SignedIn), whoami)
	e.app.Post("/set", func(c *fiber.Ctx) error { m.SetCookie(c, "tok", time.Time{}); return nil })
	e.app.Post("/clear", func(c *fiber.Ctx) error { m.ClearCookie(c); return nil })
	return e
}

func (e *env) login(t *testing.T, role actor.Role) auth.Session {
	t.Helper()
	s, err := e.svc.Login(context.Background(), string(role)+"@x.example", password)
	require.NoError(t, err)
	return s
}

type answer struct {
	status int
	body   string
	res    *http.Response
	err    error
}

func (e *env) do(t *testing.T, method, path string, body io.Reader, hdr ...string) answer {
	t.Helper()
	e.mu.Lock()
	e.refused = nil
	e.mu.Unlock()
	req := httptest.NewRequest(method, path, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.app.Test(req, -1)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	e.mu.Lock()
	defer e.mu.Unlock()
	return answer{status: res.StatusCode, body: string(b), res: res, err: e.refused}
}

func cookieOf(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == httpauth.CookieName {
			return c
		}
	}
	return nil
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t, httpauth.Config{CSRFFormField: "_csrf", SignIn: func(c *fiber.Ctx) bool { return c.Path() == "/login" }})
	s := e.login(t, actor.RoleStaff)
	cookie := []string{"Cookie", httpauth.CookieName + "=" + s.Token}
	bearer := []string{"Authorization", "Bearer " + s.Token}
	form := func(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
	formType := []string{"Content-Type", "application/x-www-form-urlencoded"}

	tests := []struct {
		name   string
		method string
		body   io.Reader
		hdr    []string
		status int
		want   string // body of a success
		is     error  // reason of a refusal
	}{
		{"no credential is anonymous", "GET", nil, nil, 200, "|", nil},
		{"bearer", "GET", nil, bearer, 200, "staff|" + s.User.ID, nil},
		{"cookie", "GET", nil, cookie, 200, "staff|" + s.User.ID, nil},
		{"not a bearer", "GET", nil, []string{"Authorization", "Basic YTpi"}, 401, "", httpauth.ErrBadAuthorization},
		{"empty bearer", "GET", nil, []string{"Authorization", "Bearer "}, 401, "", httpauth.ErrBadAuthorization},
		{"unknown token", "GET", nil, []string{"Authorization", "Bearer nope"}, 401, "", auth.ErrNoSession},
		{"cookie write without token", "POST", nil, cookie, 403, "", httpauth.ErrCSRF},
		{"cookie write with wrong header", "POST", nil, append([]string{httpauth.CSRFHeader, "forged"}, cookie...), 403, "", httpauth.ErrCSRF},
		{"cookie write with header", "POST", nil, append([]string{httpauth.CSRFHeader, s.CSRFToken}, cookie...), 200, "staff|" + s.User.ID, nil},
		{"cookie form with field", "POST", form(url.Values{"_csrf": {s.CSRFToken}}), append(formType, cookie...), 200, "staff|" + s.User.ID, nil},
		{"cookie form with wrong field", "POST", form(url.Values{"_csrf": {"forged"}}), append(formType, cookie...), 403, "", httpauth.ErrCSRF},
		{"field only counts in a form", "POST", strings.NewReader(`{"_csrf":"` + s.CSRFToken + `"}`), append([]string{"Content-Type", "application/json"}, cookie...), 403, "", httpauth.ErrCSRF},
		{"bearer write needs no token", "POST", nil, bearer, 200, "staff|" + s.User.ID, nil},
		{"sign-in with a stale cookie goes on anonymous", "POST", nil, []string{"Cookie", httpauth.CookieName + "=stale"}, 200, "|", nil},
		{"sign-in with a bad header goes on anonymous", "POST", nil, []string{"Authorization", "Basic YTpi"}, 200, "|", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/open"
			if strings.HasPrefix(tt.name, "sign-in") {
				path = "/login"
			}
			a := e.do(t, tt.method, path, tt.body, tt.hdr...)
			require.Equal(t, tt.status, a.status, a.body)
			if tt.is != nil {
				assert.ErrorIs(t, a.err, tt.is)
				return
			}
			assert.Equal(t, tt.want, a.body)
		})
	}

	t.Run("an ended cookie is cleared and says why", func(t *testing.T) {
		e.clock.Add(16 * time.Minute)
		a := e.do(t, "GET", "/open", nil, cookie...)
		assert.Equal(t, 401, a.status)
		assert.ErrorIs(t, a.err, auth.ErrSessionIdle)
		c := cookieOf(a.res)
		require.NotNil(t, c, "the cookie is cleared")
		assert.Empty(t, c.Value)
		a = e.do(t, "GET", "/open", nil, cookie...)
		assert.ErrorIs(t, a.err, auth.ErrNoSession, "then it is gone")
	})
}

func TestRequire(t *testing.T) {
	e := newEnv(t, httpauth.Config{})
	tokens := map[actor.Role]string{}
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		tokens[r] = e.login(t, r).Token
	}
	tests := []struct {
		method, path string
		allowed      []actor.Role
	}{
		{"GET", "/patients", []actor.Role{actor.RoleAdmin, actor.RoleStaff}},
		{"GET", "/users", []actor.Role{actor.RoleAdmin}},
		{"GET", "/audit", []actor.Role{actor.RoleAdmin, actor.RoleAuditor}},
		{"POST", "/any", []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			a := e.do(t, tt.method, tt.path, nil)
			assert.Equal(t, 401, a.status)
			assert.ErrorIs(t, a.err, httpauth.ErrSignInRequired)
			for role, tok := range tokens {
				a := e.do(t, tt.method, tt.path, nil, "Authorization", "Bearer "+tok)
				if contains(tt.allowed, role) {
					assert.Equal(t, 200, a.status, "%s: %s", role, a.body)
					continue
				}
				assert.Equal(t, 403, a.status, role)
				assert.ErrorIs(t, a.err, httpauth.ErrRoleDenied)
				assert.ErrorIs(t, a.err, fault.ErrForbidden)
				assert.Equal(t, "your role ("+string(role)+") may not do this", a.body)
			}
		})
	}
}

func contains(rs []actor.Role, r actor.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// The route × role table itself, from the product rules (design.md
// "Roles"): admin does everything, staff handles patients, the auditor
// reads the audit trail.
func TestPolicyTable(t *testing.T) {
	admin, staff, provider, auditor := actor.RoleAdmin, actor.RoleStaff, actor.RoleProvider, actor.RoleAuditor
	tests := []struct {
		p     httpauth.Policy
		name  string
		roles []actor.Role
	}{
		{httpauth.SignedIn, "signed in", []actor.Role{admin, staff, provider, auditor}},
		{httpauth.PanelData, "panel data", []actor.Role{admin, staff, provider}},
		{httpauth.PatientData, "patient data", []actor.Role{admin, staff}},
		{httpauth.AdminOnly, "admin only", []actor.Role{admin}},
		{httpauth.AuditTrail, "audit trail", []actor.Role{admin, auditor}},
		{httpauth.Policy(0), "policy(0)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.name, tt.p.String())
			assert.ElementsMatch(t, tt.roles, tt.p.Roles())
			assert.False(t, tt.p.Allows(actor.RoleSystem), "the system actor uses no route")
			assert.False(t, tt.p.Allows(""))
		})
	}
}

func TestNoSessionServiceLeavesRequestsAnonymous(t *testing.T) {
	m := httpauth.New(httpauth.Config{})
	app := fiber.New()
	app.Get("/", m.Authenticate, func(c *fiber.Ctx) error {
		_, ok := httpauth.SessionOf(c)
		assert.False(t, ok)
		return c.SendString("anonymous")
	})
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer whatever")
	res, err := app.Test(req, -1)
	require.NoError(t, err)
	assert.Equal(t, 200, res.StatusCode)
}

func TestCookies(t *testing.T) {
	tests := []struct {
		name       string
		cfg        httpauth.Config
		hdr        []string
		wantPath   string
		wantSecure bool
	}{
		{"defaults", httpauth.Config{}, nil, "/", false},
		{"base path", httpauth.Config{BasePath: "/pfinni"}, nil, "/pfinni", false},
		{"always", httpauth.Config{SecureCookies: "always"}, nil, "/", true},
		{"never", httpauth.Config{SecureCookies: "never"}, nil, "/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			a := e.do(t, "POST", "/set", nil, tt.hdr...)
			c := cookieOf(a.res)
			require.NotNil(t, c)
			assert.Equal(t, "tok", c.Value)
			assert.True(t, c.HttpOnly)
			assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
			assert.Equal(t, tt.wantPath, c.Path)
			assert.Equal(t, tt.wantSecure, c.Secure)

			a = e.do(t, "POST", "/clear", nil, tt.hdr...)
			c = cookieOf(a.res)
			require.NotNil(t, c)
			assert.Empty(t, c.Value)
			assert.Equal(t, tt.wantPath, c.Path)
			assert.True(t, c.Expires.Before(time.Now()), "expired")
		})
	}
}
