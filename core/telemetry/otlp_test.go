package telemetry_test

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/api"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/core/telemetry"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// The contract with Logfire (docs/operations.md): with the OTLP settings
// it documents, a request to the API arrives as a span in the caller's
// trace (its traceparent honoured), the request metric arrives, and the
// audit event the request caused arrives as a log record — each export
// carrying the write token, under the service name, and none carrying
// the e-mail address the request was made with.
func TestRequestTraceMetricAndLogReachTheCollector(t *testing.T) {
	col := newCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=test-write-token")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_SERVICE_NAME", "pfinni-test")

	ctx := context.Background()
	p, err := telemetry.Setup(ctx, "v-test")
	require.NoError(t, err)
	shut := false
	t.Cleanup(func() {
		if !shut {
			_ = p.Shutdown(ctx)
		}
	})

	db := storetest.New(t)
	log := audit.New(db, audit.Options{Logs: p.Logger})
	t.Cleanup(func() { _ = log.Close(ctx) })
	cfg, err := config.Load(nil, []string{"PFINNI_DATA_DIR=" + t.TempDir()})
	require.NoError(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := api.New(api.Deps{Config: cfg, Logger: quiet, DB: db, Tracer: p.Tracer, Meter: p.Meter, Services: api.Services{
		Audit: log,
		Auth:  auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}}),
	}})

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	const email = "someone.private@example.org"
	req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"email":"`+email+`","password":"wrong-password-1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	res, err := srv.App().Test(req, -1)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 401, res.StatusCode)

	require.NoError(t, log.Close(ctx))
	require.NoError(t, p.Shutdown(ctx)) // flushes every signal
	shut = true

	col.mu.Lock()
	assert.Empty(t, col.bad, "every export is OTLP protobuf to a signal path")
	for _, a := range col.auth {
		assert.Equal(t, "test-write-token", a, "the token header of OTEL_EXPORTER_OTLP_HEADERS")
	}
	col.mu.Unlock()

	spans, resources := col.spans()
	var found bool
	for i, s := range spans {
		if s.Name != "POST /api/v1/auth/login" {
			continue
		}
		found = true
		assert.Equal(t, traceID, hex.EncodeToString(s.TraceId), "the inbound traceparent's trace")
		assert.Equal(t, parentID, hex.EncodeToString(s.ParentSpanId), "the caller's span is the parent")
		route, _ := attr(s.Attributes, "http.route")
		assert.Equal(t, "/api/v1/auth/login", route)
		name, _ := attr(resources[i], "service.name")
		assert.Equal(t, "pfinni-test", name)
		version, _ := attr(resources[i], "service.version")
		assert.Equal(t, "v-test", version)
	}
	require.True(t, found, "the request's span arrived")

	ms := col.metric("http.server.request.duration")
	require.NotEmpty(t, ms, "the request metric arrived")
	var routes []string
	for _, m := range ms {
		for _, dp := range m.GetHistogram().GetDataPoints() {
			r, _ := attr(dp.Attributes, "http.route")
			st, _ := attr(dp.Attributes, "http.response.status_code")
			routes = append(routes, r+" "+st)
		}
	}
	assert.Contains(t, strings.Join(routes, ","), "/api/v1/auth/login int_value:401")

	var login bool
	for _, r := range col.logRecords() {
		action, _ := attr(r.Attributes, "audit.action")
		if strings.HasPrefix(action, "auth.login") {
			login = true
			assert.Equal(t, traceID, hex.EncodeToString(r.TraceId), "the audit record is in the request's trace")
		}
	}
	assert.True(t, login, "the audit event arrived as a log record")

	col.mu.Lock()
	defer col.mu.Unlock()
	for _, req := range col.logs {
		assert.NotContains(t, req.String(), email, "no e-mail address in the exported logs")
	}
	for _, req := range col.traces {
		assert.NotContains(t, req.String(), email, "no e-mail address in the exported traces")
	}
}
