package api

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/config"
)

// Low 1: a browser signs in for the cookie and is not handed the bearer
// token (a token in a page's memory undoes HttpOnly); scripts, which send
// no browser marks, keep getting it — the contract outside tools use
// (python urllib, Node fetch in the browser tests' harness).
func TestLoginTokenGoesToScriptsOnly(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, nil)
	tests := []struct {
		name      string
		body      string
		hdr       []string
		wantToken bool
	}{
		{"script (python urllib)", `{"email":"staff@x.example","password":"` + apiTestPassword + `"}`, []string{"Accept", "application/json"}, true},
		{"Node fetch", `{"email":"staff@x.example","password":"` + apiTestPassword + `"}`, []string{"Sec-Fetch-Mode", "cors"}, true},
		{"browser", `{"email":"staff@x.example","password":"` + apiTestPassword + `"}`, []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}, false},
		{"browser without Sec-Fetch", `{"email":"staff@x.example","password":"` + apiTestPassword + `"}`, []string{"Origin", "http://example.com"}, false},
		{"browser asking for bearer mode", `{"email":"staff@x.example","password":"` + apiTestPassword + `","token":true}`, []string{"Sec-Fetch-Site", "same-origin"}, true},
		{"script saying no token", `{"email":"staff@x.example","password":"` + apiTestPassword + `","token":false}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, env.srv.App(), "POST", "/api/v1/auth/login", tt.body, tt.hdr...)
			require.Equal(t, 200, res.StatusCode, string(body))
			var raw map[string]any
			require.NoError(t, json.Unmarshal(body, &raw))
			c := sessionCookieOf(res)
			require.NotNil(t, c, "every sign-in sets the cookie")
			assert.NotEmpty(t, raw["csrf_token"])
			if !tt.wantToken {
				assert.NotContains(t, raw, "token")
				assert.NotContains(t, string(body), c.Value, "the cookie's token is nowhere in the answer")
				return
			}
			assert.Equal(t, c.Value, raw["token"])
			res, _ = do(t, env.srv.App(), "GET", "/api/v1/auth/me", "", "Authorization", "Bearer "+c.Value)
			assert.Equal(t, 200, res.StatusCode, "the token works as a bearer token")
		})
	}
}

// Low 13: a sign-in a browser sends from another site is refused before
// the password is looked at (no attempt counted, no session); scripts
// without an Origin sign in as before.
func TestLoginRefusesCrossSiteBrowsers(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, nil)
	good := `{"email":"staff@x.example","password":"` + apiTestPassword + `"}`
	tests := []struct {
		name   string
		hdr    []string
		status int
	}{
		{"another site's page", []string{"Origin", "https://evil.example"}, 403},
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"a sandboxed frame", []string{"Origin", "null"}, 403},
		{"our own page", []string{"Origin", "http://example.com", "Sec-Fetch-Site", "same-origin"}, 200},
		{"our own page, older browser", []string{"Origin", "http://example.com"}, 200},
		{"a script", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(env.audit.actions())
			res, body := do(t, env.srv.App(), "POST", "/api/v1/auth/login", good, tt.hdr...)
			require.Equal(t, tt.status, res.StatusCode, string(body))
			if tt.status == 403 {
				assert.Contains(t, problemOfBody(t, body).Detail, "another site")
				assert.Nil(t, sessionCookieOf(res))
				assert.Len(t, env.audit.actions(), before, "refused before any sign-in attempt")
			}
		})
	}

	t.Run("public_url decides when set", func(t *testing.T) {
		env := newAuthEnv(t, auth.Options{}, func(c *config.Config) { c.PublicURL = "https://pfinni.example" })
		res, _ := do(t, env.srv.App(), "POST", "/api/v1/auth/login", good, "Origin", "http://example.com")
		assert.Equal(t, 403, res.StatusCode, "the request's own host no longer counts")
		res, body := do(t, env.srv.App(), "POST", "/api/v1/auth/login", good, "Origin", "https://pfinni.example")
		assert.Equal(t, 200, res.StatusCode, string(body))
	})
}
