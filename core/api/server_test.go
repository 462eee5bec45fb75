package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var quiet = slog.New(slog.DiscardHandler)

func testConfig(t testing.TB) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(nil, []string{"PFINNI_DATA_DIR=" + dir})
	require.NoError(t, err)
	return cfg
}

func do(t testing.TB, app *fiber.App, method, path, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := app.Test(req, -1)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestHealthAndReadiness(t *testing.T) {
	db := storetest.New(t)
	s := New(Deps{Logger: quiet, Config: testConfig(t), DB: db, Version: "test"})
	res, body := do(t, s.App(), "GET", "/healthz", "")
	assert.Equal(t, 200, res.StatusCode)
	assert.Contains(t, string(body), `"version":"test"`)
	res, _ = do(t, s.App(), "GET", "/readyz", "")
	assert.Equal(t, 200, res.StatusCode)

	// The database going away: readyz says so and the API answers 503
	// problem+json at once instead of hanging.
	require.NoError(t, db.Close())
	res, _ = do(t, s.App(), "GET", "/readyz", "")
	assert.Equal(t, 503, res.StatusCode)
	res, body = do(t, s.App(), "GET", "/api/v1/patients", "")
	assert.Equal(t, 503, res.StatusCode)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	assert.Equal(t, "2", res.Header.Get("Retry-After"))
	var p Problem
	require.NoError(t, json.Unmarshal(body, &p))
	assert.Equal(t, 503, p.Status)
	assert.NotEmpty(t, p.RequestID)
}

func TestBasePath(t *testing.T) {
	cfg := testConfig(t)
	cfg.BasePath = "/pfinni"
	s := New(Deps{Logger: quiet, Config: cfg, DB: storetest.New(t)})
	for _, path := range []string{"/pfinni/healthz", "/pfinni/readyz", "/healthz"} {
		res, _ := do(t, s.App(), "GET", path, "")
		assert.Equal(t, 200, res.StatusCode, path)
	}
	res, body := do(t, s.App(), "GET", "/pfinni/api/v1/nope", "")
	assert.Equal(t, 404, res.StatusCode)
	assert.Contains(t, string(body), "/api/v1/nope")
	res, _ = do(t, s.App(), "GET", "/", "")
	assert.Equal(t, 302, res.StatusCode)
	assert.Equal(t, "/pfinni/", res.Header.Get("Location"))
}

func TestSecurityHeadersAndRequestID(t *testing.T) {
	s := New(Deps{Logger: quiet, Config: testConfig(t), DB: storetest.New(t)})
	res, _ := do(t, s.App(), "GET", "/healthz", "", "X-Request-ID", "abcdef123456")
	assert.Equal(t, "abcdef123456", res.Header.Get("X-Request-ID"))
	csp := res.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "script-src 'self'")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))

	// A hostile request id is replaced, not echoed.
	res, _ = do(t, s.App(), "GET", "/healthz", "", "X-Request-ID", "<script>")
	assert.NotEqual(t, "<script>", res.Header.Get("X-Request-ID"))
	assert.Len(t, res.Header.Get("X-Request-ID"), 16)
}

type probe struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// testRoutes binds a few routes that exercise the error paths.
func testRoutes(s *Server) {
	g := s.root.Group("/api/v1/test")
	g.Post("/decode", func(c *fiber.Ctx) error {
		var p probe
		if err := decodeJSON(c, &p); err != nil {
			return err
		}
		return created(c, p)
	})
	g.Get("/panic", func(c *fiber.Ctx) error { panic("boom") })
	g.Get("/fields", func(c *fiber.Ctx) error {
		var f fault.Fields
		f.Add("date_of_birth", "must be a real date")
		return f.Err()
	})
	g.Get("/kind/:k", func(c *fiber.Ctx) error {
		kinds := map[string]error{
			"conflict": store.ErrConflict, "notfound": store.ErrNotFound, "forbidden": fault.ErrForbidden,
			"unauth": fault.ErrUnauthorized, "locked": fault.ErrLocked, "large": fault.ErrTooLarge,
			"many": fault.ErrTooMany, "invalid": fault.New(fault.ErrInvalid, "bad"), "other": io.ErrUnexpectedEOF,
			"fiber": fiber.NewError(418, "teapot"),
		}
		return kinds[c.Params("k")]
	})
}

func TestProblemDetails(t *testing.T) {
	cfg := testConfig(t)
	cfg.BodyLimitBytes = 2048
	s := New(Deps{Logger: quiet, Config: cfg, DB: storetest.New(t)})
	testRoutes(s)
	app := s.App()

	cases := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"ok", "POST", "/api/v1/test/decode", `{"name":"a","count":2}`, 201, `"count":2`},
		{"malformed", "POST", "/api/v1/test/decode", `{"name":`, 400, "malformed JSON"},
		{"syntax", "POST", "/api/v1/test/decode", `{"name" 1}`, 400, "malformed JSON at byte"},
		{"unknown field", "POST", "/api/v1/test/decode", `{"nmae":"a"}`, 422, `"field":"nmae"`},
		{"wrong type", "POST", "/api/v1/test/decode", `{"count":"two"}`, 422, `"field":"count"`},
		{"not an object", "POST", "/api/v1/test/decode", `[1]`, 400, "JSON object"},
		{"trailing data", "POST", "/api/v1/test/decode", `{"name":"a"} {}`, 400, "after the JSON object"},
		{"empty", "POST", "/api/v1/test/decode", ``, 400, "empty"},
		{"too large", "POST", "/api/v1/test/decode", `{"name":"` + strings.Repeat("x", 4000) + `"}`, 413, "larger than 2048"},
		{"panic", "GET", "/api/v1/test/panic", "", 500, "request id"},
		{"fields", "GET", "/api/v1/test/fields", "", 422, `"field":"date_of_birth"`},
		{"conflict", "GET", "/api/v1/test/kind/conflict", "", 409, "unique"},
		{"not found", "GET", "/api/v1/test/kind/notfound", "", 404, "not found"},
		{"forbidden", "GET", "/api/v1/test/kind/forbidden", "", 403, ""},
		{"unauthorized", "GET", "/api/v1/test/kind/unauth", "", 401, ""},
		{"locked", "GET", "/api/v1/test/kind/locked", "", 423, ""},
		{"large", "GET", "/api/v1/test/kind/large", "", 413, ""},
		{"many", "GET", "/api/v1/test/kind/many", "", 429, ""},
		{"invalid", "GET", "/api/v1/test/kind/invalid", "", 400, "bad"},
		{"internal hides detail", "GET", "/api/v1/test/kind/other", "", 500, "went wrong on our side"},
		{"fiber error", "GET", "/api/v1/test/kind/fiber", "", 418, "teapot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, app, tc.method, tc.path, tc.body)
			assert.Equal(t, tc.status, res.StatusCode, string(body))
			if tc.status >= 400 {
				assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			}
			assert.Contains(t, string(body), tc.contains)
		})
	}
	// The panic did not take the server down.
	res, _ := do(t, app, "GET", "/healthz", "")
	assert.Equal(t, 200, res.StatusCode)
}

func TestContentTypeMustBeJSON(t *testing.T) {
	s := New(Deps{Logger: quiet, Config: testConfig(t), DB: storetest.New(t)})
	testRoutes(s)
	for _, ct := range []string{"text/plain", "multipart/form-data; x=json", "application/jsonp", "text/json", "application/x-www-form-urlencoded; charset=json", "nonsense; ;"} {
		res, body := do(t, s.App(), "POST", "/api/v1/test/decode", `{"name":"a"}`, "Content-Type", ct)
		assert.Equal(t, 415, res.StatusCode, ct)
		assert.Contains(t, string(body), "must be JSON", ct)
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"} {
		res, body := do(t, s.App(), "POST", "/api/v1/test/decode", `{"name":"a"}`, "Content-Type", ct)
		assert.Equal(t, 201, res.StatusCode, ct+": "+string(body))
	}
}

func TestRateLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.APIRateLimit = 3
	s := New(Deps{Logger: quiet, Config: cfg, DB: storetest.New(t)})
	testRoutes(s)
	codes := []int{}
	var last *http.Response
	for range 5 {
		res, _ := do(t, s.App(), "GET", "/api/v1/test/fields", "")
		codes = append(codes, res.StatusCode)
		last = res
	}
	assert.Equal(t, []int{422, 422, 422, 429, 429}, codes)
	// RFC 6585 429 with Retry-After, and the IETF draft's fields
	// (draft-ietf-httpapi-ratelimit-headers).
	retry, err := strconv.Atoi(last.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.True(t, retry >= 1 && retry <= 60, "Retry-After %d", retry)
	assert.Equal(t, `"default";q=3;w=60`, last.Header.Get("RateLimit-Policy"))
	assert.Equal(t, fmt.Sprintf(`"default";r=0;t=%d`, retry), last.Header.Get("RateLimit"))

}

func TestAllow(t *testing.T) {
	s := New(Deps{Logger: quiet, Config: testConfig(t), DB: storetest.New(t)})
	s.root.Get("/api/v1/test/admin", allow(adminOnly), func(c *fiber.Ctx) error { return c.SendString("ok") })
	res, body := do(t, s.App(), "GET", "/api/v1/test/admin", "")
	assert.Equal(t, 401, res.StatusCode, string(body))
}

func TestListenStopsWithContext(t *testing.T) {
	s := New(Deps{Logger: quiet, Config: testConfig(t), DB: storetest.New(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, "127.0.0.1:0") }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
}
