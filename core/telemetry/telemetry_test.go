package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

func TestOffWithoutEnvironment(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	p, err := Setup(context.Background(), "test")
	require.NoError(t, err)
	assert.Empty(t, p.shutdown)
	require.NoError(t, p.Shutdown(context.Background()))
	assert.False(t, Enabled([]string{"OTEL_EXPORTER_OTLP_ENDPOINT="}))
	assert.True(t, Enabled([]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://x"}))
}

// With the standard variables set, traces, metrics and logs reach an OTLP
// receiver (here a local HTTP server standing in for Logfire/a collector).
func TestExportsOverOTLP(t *testing.T) {
	var mu sync.Mutex
	paths := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_SERVICE_NAME", "pfinni-test")

	ctx := context.Background()
	p, err := Setup(ctx, "test")
	require.NoError(t, err)
	_, span := p.Tracer.Tracer("t").Start(ctx, "op")
	span.End()
	c, err := p.Meter.Meter("t").Int64Counter("c")
	require.NoError(t, err)
	c.Add(ctx, 1)
	var rec log.Record
	rec.SetBody(attribute.StringValue("audit event"))
	p.Logger.Logger("t").Emit(ctx, rec)
	require.NoError(t, p.Shutdown(ctx))

	mu.Lock()
	defer mu.Unlock()
	assert.Positive(t, paths["/v1/traces"], "traces exported")
	assert.Positive(t, paths["/v1/metrics"], "metrics exported")
	assert.Positive(t, paths["/v1/logs"], "logs exported")
}
