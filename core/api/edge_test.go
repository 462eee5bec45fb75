package api

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func compress(t *testing.T, enc string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		var err error
		w, err = flate.NewWriter(&buf, flate.BestSpeed)
		require.NoError(t, err)
	case "br":
		w = brotli.NewWriter(&buf)
	default:
		return data
	}
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// C1: a compressed body is refused (415) before anything reads it, on
// anonymous login as on every route; fiber would have inflated it with
// no bound (a 64 KB gzip body became 64 MiB).
func TestCompressedBodiesRefused(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, nil)
	login := `{"email":"staff@x.example","password":"` + apiTestPassword + `"}`
	for _, tc := range []struct {
		name, path, encoding string
		body                 []byte
		status               int
	}{
		{"gzip login", "/api/v1/auth/login", "gzip", compress(t, "gzip", []byte(login)), 415},
		{"deflate login", "/api/v1/auth/login", "deflate", compress(t, "deflate", []byte(login)), 415},
		{"brotli login", "/api/v1/auth/login", "br", compress(t, "br", []byte(login)), 415},
		{"stacked", "/api/v1/auth/login", "gzip, gzip", compress(t, "gzip", compress(t, "gzip", []byte(login))), 415},
		{"identity then gzip", "/api/v1/auth/login", "identity, gzip", compress(t, "gzip", []byte(login)), 415},
		{"unknown coding", "/api/v1/auth/login", "zstd", []byte(login), 415},
		{"gzip bomb to an unknown page", "/nowhere", "gzip", compress(t, "gzip", make([]byte, 8<<20)), 415},
		{"identity is plain", "/api/v1/auth/login", "identity", []byte(login), 200},
		{"IDENTITY is plain", "/api/v1/auth/login", "IDENTITY", []byte(login), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", tc.path, bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", tc.encoding)
			res, err := env.srv.App().Test(req, -1)
			require.NoError(t, err)
			b, _ := io.ReadAll(res.Body)
			assert.Equal(t, tc.status, res.StatusCode, string(b))
			if tc.status == 415 {
				assert.Contains(t, string(b), "Content-Encoding")
				assert.True(t, res.Close, "the connection is closed: the unread body is not a next request")
			}
		})
	}
}

// H2: body_limit_bytes holds on every route, anonymous login included,
// whatever the content type and however the body is framed; JSON needs
// application/json exactly; overlong passwords are refused before
// hashing.
func TestBodyLimitOnEveryRoute(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, func(c *config.Config) { c.BodyLimitBytes = 4096 })
	big := `{"email":"staff@x.example","password":"` + strings.Repeat("p", 5000) + `"}`
	for _, tc := range []struct {
		name, method, path, ctype string
		body                      string
		chunked                   bool
		status                    int
	}{
		{"login", "POST", "/api/v1/auth/login", "application/json", big, false, 413},
		{"login chunked", "POST", "/api/v1/auth/login", "application/json", big, true, 413},
		{"multipart; x=json bypass", "POST", "/api/v1/auth/login", "multipart/form-data; x=json", big, false, 413},
		{"multipart; x=json small", "POST", "/api/v1/auth/login", "multipart/form-data; x=json", `{"email":"a@b.c","password":"x"}`, false, 415},
		{"health", "POST", "/healthz", "text/plain", big, false, 413},
		{"unknown route", "PUT", "/api/v1/nope", "application/octet-stream", big, true, 413},
		{"upload path without the import service", "POST", "/api/v1/imports", "multipart/form-data; boundary=x", big, false, 413},
		{"overlong password, within the body limit", "POST", "/api/v1/auth/login", "application/json",
			`{"email":"staff@x.example","password":"` + strings.Repeat("p", auth.MaxPasswordLength+1) + `"}`, false, 422},
		{"under the limit", "POST", "/api/v1/auth/login", "application/json", `{"email":"staff@x.example","password":"` + apiTestPassword + `"}`, true, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(body) // unknown length: sent chunked
			}
			req := httptest.NewRequest(tc.method, tc.path, body)
			if tc.chunked {
				req.ContentLength, req.TransferEncoding = 0, []string{"chunked"}
			}
			req.Header.Set("Content-Type", tc.ctype)
			res, err := env.srv.App().Test(req, -1)
			require.NoError(t, err)
			b, _ := io.ReadAll(res.Body)
			assert.Equal(t, tc.status, res.StatusCode, string(b))
		})
	}
	// The overlong password was not a counted guess.
	assert.NotContains(t, env.audit.actions(), "auth.login failure")
}

// M2, Low 6: X-Forwarded-For and X-Forwarded-Proto are believed from
// trusted_proxies only; the client address (audit, throttles) is the
// right-most forwarded hop that is not a proxy.
func TestTrustedProxies(t *testing.T) {
	newServer := func(t *testing.T, proxies string) *Server {
		cfg := testConfig(t)
		cfg.TrustedProxies = proxies
		cfg.APIRateLimit = 1
		s := New(Deps{Logger: quiet, Config: cfg, DB: storetest.New(t)})
		s.root.Get("/api/v1/test/ip", func(c *fiber.Ctx) error { return c.SendString(actor.From(c.UserContext()).IP) })
		return s
	}
	ip := func(t *testing.T, s *Server, hdr ...string) (int, string, string) {
		res, b := do(t, s.App(), "GET", "/api/v1/test/ip", "", hdr...)
		return res.StatusCode, string(b), res.Header.Get("Strict-Transport-Security")
	}

	// app.Test's peer is 0.0.0.0: untrusted here.
	s := newServer(t, "")
	status, got, hsts := ip(t, s, "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https")
	assert.Equal(t, 200, status)
	assert.Equal(t, "0.0.0.0", got, "an untrusted peer's X-Forwarded-For is ignored")
	assert.Empty(t, hsts, "nor is its X-Forwarded-Proto believed")
	status, _, _ = ip(t, s, "X-Forwarded-For", "203.0.113.8")
	assert.Equal(t, 429, status, "a forged X-Forwarded-For does not escape the rate limit")

	// Trusted: each forwarded client has its own address and bucket.
	s = newServer(t, "0.0.0.0, 10.0.0.0/8")
	status, got, hsts = ip(t, s, "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https")
	assert.Equal(t, 200, status)
	assert.Equal(t, "203.0.113.7", got)
	assert.Contains(t, hsts, "max-age=")
	status, got, _ = ip(t, s, "X-Forwarded-For", "6.6.6.6, 203.0.113.9, 10.1.2.3")
	assert.Equal(t, 200, status, "another client, another bucket")
	assert.Equal(t, "203.0.113.9", got, "hops added by trusted proxies are skipped; the client's own claims are not believed")
	status, _, _ = ip(t, s, "X-Forwarded-For", "203.0.113.7")
	assert.Equal(t, 429, status, "the same client is throttled")
	status, got, _ = ip(t, s, "X-Forwarded-For", "not-an-ip")
	assert.Equal(t, 200, status)
	assert.Equal(t, "0.0.0.0", got, "a malformed hop: the proxy's own address")
}

// Low 8: every /api/v1 answer, errors included, is uncacheable.
func TestAPIAnswersAreNotStored(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, nil)
	si := env.login(t, "admin@x.example")
	for _, tc := range []struct {
		path   string
		hdr    []string
		status int
	}{
		{"/api/v1/users", []string{"Authorization", "Bearer " + si.token}, 200},
		{"/api/v1/users", nil, 401},
		{"/api/v1/nope", nil, 404},
	} {
		res, _ := do(t, env.srv.App(), "GET", tc.path, "", tc.hdr...)
		assert.Equal(t, tc.status, res.StatusCode, tc.path)
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), tc.path)
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"https://example.org", "https://example.org/pfinni", true},
		{"https://EXAMPLE.org:443", "https://example.org", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"http://127.0.0.1:8081", "http://127.0.0.1:8080", false},
		{"http://example.org", "https://example.org", false},
		{"https://example.org.evil.example", "https://example.org", false},
		{"null", "https://example.org", false},
		{"::", "https://example.org", false},
		{"https://example.org", "::", false},
	} {
		assert.Equal(t, tc.want, sameOrigin(tc.a, tc.b), tc.a+" vs "+tc.b)
	}
}

// C1 guard: no request handler in core reads the body through fiber's
// decompressing c.Body() or its parsers built on it.
func TestNoDecompressingBodyReads(t *testing.T) {
	bad := regexp.MustCompile(`\bc\.(Body|BodyParser)\(`)
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if code, _, _ := strings.Cut(line, "//"); bad.MatchString(code) {
				t.Errorf("%s:%d reads the body with c.Body/BodyParser (inflates compressed bodies with no limit): use rawBody", p, i+1)
			}
		}
		return nil
	})
	require.NoError(t, err)
}
