package plugin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pfinni/pfinni/sdk"
)

func TestCallSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	path := writeManifest(t, plug{name: "stub-trap", provides: "{intents: [{name: trap.now}]}"})
	r := start(t, Options{ManifestPath: path, Tracer: tp})
	require.NoError(t, r.Call(staff(), "stub-trap", sdk.HookIntentMatch, sdk.MatchRequest{}, nil))
	require.Error(t, r.Call(staff(), "stub-trap", sdk.HookIntentHandle, sdk.IntentRequest{}, nil))
	spans := rec.Ended()
	require.Len(t, spans, 2)
	assert.Equal(t, "plugin.call intent.match", spans[0].Name())
	assert.Equal(t, codes.Unset, spans[0].Status().Code)
	assert.Equal(t, "plugin.call intent.handle", spans[1].Name())
	assert.Equal(t, codes.Error, spans[1].Status().Code)
	assert.Equal(t, "panic", spans[1].Status().Description)
}
