package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// M3: after signing in, the page goes back to where the user was, but
// never off the site, whatever next= an attacker's link carries.
func TestSignInNeverRedirectsOffSite(t *testing.T) {
	unsafe := []string{
		"//evil.example/",
		"/\t/evil.example",
		"/\n/evil.example",
		"/\r\n/evil.example",
		`/\evil.example`,
		`/\/evil.example`,
		"/%09/evil.example",
		"/%5C/evil.example",
		"/%2F/evil.example",
		"https://evil.example/",
		"javascript:alert(1)",
		"/../evil",
		"",
	}
	for _, base := range []string{"", "/pfinni"} {
		f := newFixture(t, fixtureOpts{base: base})
		for _, next := range unsafe {
			t.Run(base+" "+next, func(t *testing.T) {
				// The link: /login?next=... shows no such next in the form.
				r := f.client().get("/login?next=" + url.QueryEscape(next))
				require.Equal(t, http.StatusOK, r.status)
				assert.NotContains(t, r.body, `name="next"`)

				// The form posted anyway: home, on this site.
				r = f.client().do(http.MethodPost, "/login", url.Values{"email": {staffEmail}, "password": {password}, "next": {next}})
				require.Equal(t, http.StatusSeeOther, r.status, r.body)
				assert.Equal(t, base+"/", r.header.Get("Location"))
			})
		}
		t.Run(base+" a page of the site", func(t *testing.T) {
			r := f.client().do(http.MethodPost, "/login", url.Values{"email": {staffEmail}, "password": {password}, "next": {"/patients?status=active"}})
			assert.Equal(t, base+"/patients?status=active", r.header.Get("Location"))
		})
	}
}

// Low 13: the sign-in form posted from another site is refused (login
// CSRF would sign the victim into the attacker's account).
func TestLoginFormRefusesCrossSite(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	form := url.Values{"email": {staffEmail}, "password": {password}}
	for name, hdr := range map[string][]string{
		"another site's page":       {"Origin", "https://evil.example"},
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"},
		"a sandboxed frame":         {"Origin", "null"},
	} {
		t.Run(name, func(t *testing.T) {
			c := f.client()
			r := c.do(http.MethodPost, "/login", form, hdr...)
			assert.Equal(t, http.StatusForbidden, r.status)
			assert.Contains(t, html.UnescapeString(r.body), "another site")
			assert.Empty(t, c.cookie, "no session")
		})
	}
	c := f.client()
	r := c.do(http.MethodPost, "/login", form, "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusSeeOther, r.status, "our own form")
	assert.NotEmpty(t, c.cookie)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// The pages tell an idle timeout from other ends of a session by the
// session service's typed error (auth.ErrSessionIdle), not by its text,
// and say so on the sign-in page.
func TestEndedSessionsSendToSignIn(t *testing.T) {
	clk := &fakeClock{t: time.Now().UTC()}
	f := newFixture(t, fixtureOpts{now: clk.Now})

	t.Run("idle", func(t *testing.T) {
		c := f.client().login(staffEmail)
		clk.Add(16 * time.Minute)
		r := c.get("/patients?status=active")
		require.Equal(t, http.StatusSeeOther, r.status)
		loc, err := url.Parse(r.header.Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "/login", loc.Path)
		assert.Equal(t, "expired", loc.Query().Get("why"))
		assert.Equal(t, "/patients?status=active", loc.Query().Get("next"))
		assert.Contains(t, c.get(r.header.Get("Location")).body, "period of inactivity")
	})
	t.Run("idle, htmx", func(t *testing.T) {
		c := f.client().login(staffEmail)
		clk.Add(16 * time.Minute)
		r := c.get("/patients", "HX-Request", "true")
		assert.Equal(t, http.StatusUnauthorized, r.status)
		assert.Contains(t, r.header.Get("HX-Redirect"), "why=expired")
	})
	t.Run("signed out elsewhere", func(t *testing.T) {
		c := f.client().login(staffEmail)
		cookie := c.cookie
		require.Equal(t, http.StatusSeeOther, c.post("/logout", nil).status)
		c.cookie = cookie // a second tab still sends it
		r := c.get("/patients")
		require.Equal(t, http.StatusSeeOther, r.status)
		assert.True(t, strings.HasPrefix(r.header.Get("Location"), "/login"))
		assert.NotContains(t, r.header.Get("Location"), "why=")
	})
	t.Run("a role the page is not for", func(t *testing.T) {
		r := f.client().login(staffEmail).get("/admin/users")
		assert.Equal(t, http.StatusForbidden, r.status)
		assert.Contains(t, r.body, "This page is not available to your role (staff).")
	})
}
