package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// auditSink collects audit events in memory for API tests.
type auditSink struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *auditSink) Record(ctx context.Context, e audit.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e.Actor == "" {
		e.Actor = actor.From(ctx).UserID
	}
	a.events = append(a.events, e)
	return nil
}

func (a *auditSink) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.events {
		out = append(out, e.Action+" "+e.Outcome)
	}
	return out
}

// testClock is a settable clock for session expiry.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type authEnv struct {
	srv   *Server
	auth  *auth.Service
	audit *auditSink
	clock *testClock
	users map[actor.Role]auth.User
}

const apiTestPassword = "correct horse battery"

// newAuthEnv serves the auth and users API on a fresh database with one
// user per role (admin@, staff@, auditor@x.example).
func newAuthEnv(t testing.TB, opt auth.Options, edit func(*config.Config)) *authEnv {
	t.Helper()
	db := storetest.New(t)
	cfg := testConfig(t)
	if edit != nil {
		edit(cfg)
	}
	env := &authEnv{audit: &auditSink{}, clock: &testClock{t: time.Now().UTC()}, users: map[actor.Role]auth.User{}}
	if opt.Hash == (auth.HashParams{}) {
		opt.Hash = auth.HashParams{Memory: 256, Time: 1, Threads: 1}
	}
	if opt.LoginsPerIPPerMinute == 0 {
		opt.LoginsPerIPPerMinute = 10_000
	}
	opt.Now = env.clock.Now
	env.auth = auth.New(db, env.audit, opt)
	sys := actor.System(context.Background())
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		u, err := env.auth.CreateUser(sys, auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, Password: apiTestPassword})
		require.NoError(t, err)
		env.users[r] = u
	}
	env.srv = New(Deps{Logger: quiet, Config: cfg, DB: db, Services: Services{Auth: env.auth}})
	return env
}

type signedIn struct {
	token, csrf, cookie string
	body                sessionResponse
}

// login signs in as email and returns the credentials.
func (e *authEnv) login(t testing.TB, email string) signedIn {
	t.Helper()
	res, body := do(t, e.srv.App(), "POST", e.srv.cfg.BasePath+"/api/v1/auth/login", `{"email":"`+email+`","password":"`+apiTestPassword+`"}`)
	require.Equal(t, 200, res.StatusCode, string(body))
	var s signedIn
	require.NoError(t, json.Unmarshal(body, &s.body))
	s.token, s.csrf = s.body.Token, s.body.CSRFToken
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			s.cookie = c.Value
		}
	}
	return s
}

func problemOfBody(t *testing.T, body []byte) Problem {
	t.Helper()
	var p Problem
	require.NoError(t, json.Unmarshal(body, &p), string(body))
	return p
}

func sessionCookieOf(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

func TestLoginSetsCookieAndReturnsToken(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, nil)
	res, body := do(t, env.srv.App(), "POST", "/api/v1/auth/login", `{"email":"Staff@X.example","password":"`+apiTestPassword+`"}`)
	require.Equal(t, 200, res.StatusCode, string(body))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))

	var got sessionResponse
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Len(t, got.Token, 43)
	assert.Len(t, got.CSRFToken, 43)
	assert.Equal(t, userBrief{ID: env.users[actor.RoleStaff].ID, Email: "staff@x.example", Name: "Test staff", Role: actor.RoleStaff}, got.User)
	assert.Equal(t, 900, got.IdleTimeoutSeconds)
	assert.WithinDuration(t, env.clock.Now().Add(12*time.Hour), got.ExpiresAt, time.Second)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(body, &raw))
	assert.ElementsMatch(t, []string{"token", "user", "csrf_token", "expires_at", "idle_timeout_seconds"}, mapKeys(raw))

	c := sessionCookieOf(res)
	require.NotNil(t, c)
	assert.Equal(t, got.Token, c.Value)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	assert.False(t, c.Secure, "plain HTTP with secure_cookies=auto")
	assert.Equal(t, []string{"user.create success", "user.create success", "user.create success", "auth.login success"}, env.audit.actions())
}

func mapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSessionCookieFlags(t *testing.T) {
	tests := []struct {
		name       string
		base       string
		secure     string
		header     []string
		wantPath   string
		wantSecure bool
	}{
		{"auto behind TLS proxy", "", "auto", []string{"X-Forwarded-Proto", "https"}, "/", true},
		{"auto, X-Forwarded-Proto from an untrusted peer", "", "auto", []string{"X-Forwarded-Proto", "https"}, "/", false},
		{"always", "", "always", nil, "/", true},
		{"never over https", "", "never", []string{"X-Forwarded-Proto", "https"}, "/", false},
		{"base path", "/pfinni", "auto", nil, "/pfinni", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newAuthEnv(t, auth.Options{}, func(c *config.Config) {
				c.BasePath, c.SecureCookies = tt.base, tt.secure
				if !strings.Contains(tt.name, "untrusted") {
					c.TrustedProxies = "0.0.0.0" // app.Test's peer address: the proxy
				}
			})
			res, body := do(t, env.srv.App(), "POST", tt.base+"/api/v1/auth/login", `{"email":"staff@x.example","password":"`+apiTestPassword+`"}`, tt.header...)
			require.Equal(t, 200, res.StatusCode, string(body))
			c := sessionCookieOf(res)
			require.NotNil(t, c)
			assert.Equal(t, tt.wantPath, c.Path)
			assert.Equal(t, tt.wantSecure, c.Secure)
		})
	}
}

func TestLoginRefusals(t *testing.T) {
	env := newAuthEnv(t, auth.Options{MaxFailures: 3}, nil)
	app := env.srv.App()
	tests := []struct {
		name   string
		body   string
		status int
		detail string
		fields []string
	}{
		{"wrong password", `{"email":"staff@x.example","password":"wrong password!"}`, 401, "the email or password is not right", nil},
		{"unknown email", `{"email":"nobody@x.example","password":"wrong password!"}`, 401, "the email or password is not right", nil},
		{"missing fields", `{}`, 422, "", []string{"email", "password"}},
		{"unknown field", `{"email":"a@x.example","password":"p","remember":true}`, 422, "", []string{"remember"}},
		{"malformed", `{"email":`, 400, "malformed JSON", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, app, "POST", "/api/v1/auth/login", tt.body)
			assert.Equal(t, tt.status, res.StatusCode, string(body))
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			p := problemOfBody(t, body)
			if tt.detail != "" {
				assert.Contains(t, p.Detail, tt.detail)
			}
			var fields []string
			for _, f := range p.Errors {
				fields = append(fields, f.Field)
			}
			assert.Equal(t, tt.fields, fields)
			assert.Nil(t, sessionCookieOf(res))
		})
	}
}

func TestLockoutAnswers423(t *testing.T) {
	env := newAuthEnv(t, auth.Options{MaxFailures: 2}, nil)
	app := env.srv.App()
	res, _ := do(t, app, "POST", "/api/v1/auth/login", `{"email":"staff@x.example","password":"wrong password!"}`)
	require.Equal(t, 401, res.StatusCode)
	res, body := do(t, app, "POST", "/api/v1/auth/login", `{"email":"staff@x.example","password":"wrong password!"}`)
	require.Equal(t, 423, res.StatusCode)
	assert.Contains(t, problemOfBody(t, body).Detail, "locked for 15 minutes")
	res, body = do(t, app, "POST", "/api/v1/auth/login", `{"email":"staff@x.example","password":"`+apiTestPassword+`"}`)
	require.Equal(t, 423, res.StatusCode)
	assert.Contains(t, problemOfBody(t, body).Detail, "locked")
}

func TestLoginThrottleAnswers429(t *testing.T) {
	env := newAuthEnv(t, auth.Options{LoginsPerIPPerMinute: 2}, nil)
	app := env.srv.App()
	for range 2 {
		res, _ := do(t, app, "POST", "/api/v1/auth/login", `{"email":"staff@x.example","password":"wrong password!"}`)
		require.Equal(t, 401, res.StatusCode)
	}
	res, body := do(t, app, "POST", "/api/v1/auth/login", `{"email":"staff@x.example","password":"`+apiTestPassword+`"}`)
	require.Equal(t, 429, res.StatusCode)
	assert.Equal(t, "60", res.Header.Get("Retry-After"))
	assert.Contains(t, problemOfBody(t, body).Detail, "too many sign-in attempts")
}

func TestMeLogoutAndCredentials(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, nil)
	app := env.srv.App()
	s := env.login(t, "auditor@x.example")

	for name, hdr := range map[string][]string{
		"cookie": {"Cookie", SessionCookie + "=" + s.cookie},
		"bearer": {"Authorization", "Bearer " + s.token},
	} {
		t.Run(name, func(t *testing.T) {
			res, body := do(t, app, "GET", "/api/v1/auth/me", "", hdr...)
			require.Equal(t, 200, res.StatusCode, string(body))
			var me sessionResponse
			require.NoError(t, json.Unmarshal(body, &me))
			assert.Empty(t, me.Token, "/me never repeats the token")
			assert.Equal(t, s.csrf, me.CSRFToken)
			assert.Equal(t, actor.RoleAuditor, me.User.Role)
			assert.Equal(t, s.body.ExpiresAt, me.ExpiresAt)
		})
	}

	tests := []struct {
		name   string
		hdr    []string
		detail string
	}{
		{"anonymous", nil, "sign in first"},
		{"unknown bearer", []string{"Authorization", "Bearer nope"}, "session has ended"},
		{"basic auth", []string{"Authorization", "Basic YTpi"}, "Bearer <token"},
		{"empty bearer", []string{"Authorization", "Bearer "}, "Bearer <token"},
		{"unknown cookie", []string{"Cookie", SessionCookie + "=nope"}, "session has ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, app, "GET", "/api/v1/auth/me", "", tt.hdr...)
			assert.Equal(t, 401, res.StatusCode)
			assert.Contains(t, problemOfBody(t, body).Detail, tt.detail)
		})
	}

	// A stale cookie is cleared and does not block a new sign-in.
	res, body := do(t, app, "POST", "/api/v1/auth/login", `{"email":"staff@x.example","password":"`+apiTestPassword+`"}`, "Cookie", SessionCookie+"=stale")
	require.Equal(t, 200, res.StatusCode, string(body))

	// Logout by cookie needs the CSRF token, then the session is gone.
	res, _ = do(t, app, "POST", "/api/v1/auth/logout", "", "Cookie", SessionCookie+"="+s.cookie)
	require.Equal(t, 403, res.StatusCode)
	res, _ = do(t, app, "POST", "/api/v1/auth/logout", "", "Cookie", SessionCookie+"="+s.cookie, CSRFHeader, s.csrf)
	require.Equal(t, 204, res.StatusCode)
	c := sessionCookieOf(res)
	require.NotNil(t, c)
	assert.Empty(t, c.Value, "the cookie is cleared")
	res, _ = do(t, app, "GET", "/api/v1/auth/me", "", "Authorization", "Bearer "+s.token)
	assert.Equal(t, 401, res.StatusCode, "the bearer token of the same session ends too")
	assert.Contains(t, env.audit.actions(), "auth.logout success")
}

func TestCSRF(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, nil)
	app := env.srv.App()
	s := env.login(t, "admin@x.example")
	newUser := func(n string) string {
		return `{"email":"u` + n + `@x.example","name":"U","role":"staff","password":"` + apiTestPassword + `"}`
	}
	tests := []struct {
		name   string
		hdr    []string
		status int
	}{
		{"cookie without token", []string{"Cookie", SessionCookie + "=" + s.cookie}, 403},
		{"cookie with wrong token", []string{"Cookie", SessionCookie + "=" + s.cookie, CSRFHeader, "forged"}, 403},
		{"cookie with token", []string{"Cookie", SessionCookie + "=" + s.cookie, CSRFHeader, s.csrf}, 201},
		{"bearer needs none", []string{"Authorization", "Bearer " + s.token}, 201},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, app, "POST", "/api/v1/users", newUser(string(rune('a'+i))), tt.hdr...)
			assert.Equal(t, tt.status, res.StatusCode, string(body))
			if tt.status == 403 {
				assert.Contains(t, problemOfBody(t, body).Detail, "X-CSRF-Token")
			}
		})
	}
	// Reads by cookie need no token.
	res, _ := do(t, app, "GET", "/api/v1/users", "", "Cookie", SessionCookie+"="+s.cookie)
	assert.Equal(t, 200, res.StatusCode)
}

func TestIdleTimeoutOverHTTP(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, nil)
	s := env.login(t, "staff@x.example")
	env.clock.Advance(14 * time.Minute)
	res, _ := do(t, env.srv.App(), "GET", "/api/v1/auth/me", "", "Cookie", SessionCookie+"="+s.cookie)
	require.Equal(t, 200, res.StatusCode)
	env.clock.Advance(16 * time.Minute)
	res, body := do(t, env.srv.App(), "GET", "/api/v1/auth/me", "", "Cookie", SessionCookie+"="+s.cookie)
	require.Equal(t, 401, res.StatusCode)
	assert.Contains(t, problemOfBody(t, body).Detail, "expired after 15 minutes of inactivity")
	c := sessionCookieOf(res)
	require.NotNil(t, c)
	assert.Empty(t, c.Value)
}

func TestAuthRoutesNeedTheService(t *testing.T) {
	db := storetest.New(t)
	srv := New(Deps{Logger: quiet, Config: testConfig(t), DB: db})
	res, _ := do(t, srv.App(), "POST", "/api/v1/auth/login", `{"email":"a@x.example","password":"p"}`)
	assert.Equal(t, 404, res.StatusCode)
	res, _ = do(t, srv.App(), "GET", "/api/v1/users", "", "Authorization", "Bearer whatever")
	assert.Equal(t, 404, res.StatusCode, "no auth service: credentials are ignored, routes unbound")
	assert.NotNil(t, srv.Authenticate())
	assert.True(t, strings.HasPrefix(SessionCookie, "pfinni"))
}

// BenchmarkLoginHTTP is POST /api/v1/auth/login end to end through the
// handler with the real argon2id cost and the audit event stored.
func BenchmarkLoginHTTP(b *testing.B) {
	env := newAuthEnv(b, auth.Options{Hash: auth.DefaultHashParams}, nil)
	for b.Loop() {
		env.login(b, "staff@x.example")
	}
}
