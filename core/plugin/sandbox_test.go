package plugin

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	corefault "github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/plugin/fault"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/sdk"
)

// installed is the repository's plugin-manifest.yaml.
func installed(t *testing.T) *manifest.Manifest {
	t.Helper()
	root, err := plugintest.Root()
	require.NoError(t, err)
	m, errs, err := manifest.Load(filepath.Join(root, "plugin-manifest.yaml"), sdk.Version)
	require.NoError(t, err)
	require.Empty(t, errs)
	return m
}

func installedEntry(t *testing.T, name string) manifest.Entry {
	t.Helper()
	for _, e := range installed(t).Plugins {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("plugin %s is not in plugin-manifest.yaml", name)
	return manifest.Entry{}
}

// Every installed WASM plugin reads untrusted input (uploaded documents,
// chat text, search queries), so every one must be stoppable at its time
// limit (security review M4).
func TestInstalledPluginsThatReadUntrustedInputAreInterruptible(t *testing.T) {
	for _, e := range installed(t).Plugins {
		p := e.Provides
		if e.Kind != manifest.KindWASM || len(p.ImportFormats)+len(p.Intents)+len(p.KBTopics) == 0 {
			continue
		}
		assert.True(t, e.Limits.IsInterruptible(), "%s reads untrusted input but is limits.interruptible: false", e.Name)
	}
}

// within waits for fn, failing the test if it does not return in time (a
// liveness check: on the old code these calls never returned).
func within[T any](t *testing.T, d time.Duration, what string, fn func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- fn() }()
	select {
	case v := <-done:
		return v
	case <-time.After(d):
		t.Fatalf("%s did not return within %s", what, d)
		var zero T
		return zero
	}
}

// An importer stuck on a hostile document, with the installed importers'
// limits, is stopped at its time limit and fails as a timeout.
func TestHungImporterIsInterrupted(t *testing.T) {
	lim := installedEntry(t, "importer-ccda").Limits
	path := writeManifest(t, plug{name: "stub-importer", provides: "{importFormats: [stub-csv]}",
		extra: fmt.Sprintf("    limits: {timeout: 300ms, memory: %dMiB, interruptible: %t}\n", lim.Memory>>20, lim.IsInterruptible())})
	r := start(t, Options{ManifestPath: path})
	err := within(t, time.Minute, "the hung import", func() error {
		_, err := r.Import(staff(), sdk.ImportRequest{Format: "stub-csv", Document: []byte("# hang\nM1,Ada,Lovelace,1815-12-10,female\n")})
		return err
	})
	require.Error(t, err)
	assert.Equal(t, fault.Timeout, fault.KindOf(err), "%v", err)
	// The plugin still serves the next document.
	res, err := r.Import(staff(), sdk.ImportRequest{Format: "stub-csv", Document: []byte("M1,Ada,Lovelace,1815-12-10,female\n")})
	require.NoError(t, err)
	assert.Len(t, res.Records, 1)
}

// Disabling a plugin whose call hangs (with a long time limit) returns
// after the drain timeout: the call is interrupted and fails as
// unavailable, and the plugin can be enabled again.
func TestDisableReturnsWhileACallHangs(t *testing.T) {
	path := writeManifest(t, plug{name: "stub-slow", provides: "{intents: [{name: slow.wait}]}", extra: "    limits: {timeout: 5m, concurrency: 1}\n"})
	r := start(t, Options{ManifestPath: path, DrainTimeout: 100 * time.Millisecond})
	errc := make(chan error, 1)
	go func() {
		errc <- r.Call(staff(), "stub-slow", sdk.HookIntentHandle, sdk.IntentRequest{Message: "x"}, nil)
	}()
	require.Eventually(t, func() bool { return inflight(r, "stub-slow") }, 10*time.Second, time.Millisecond)

	res := within(t, time.Minute, "Disable", func() result { in, err := r.Disable(admin(), "stub-slow"); return result{in, err} })
	require.NoError(t, res.err)
	assert.Equal(t, StateDisabled, res.in.State)
	callErr := within(t, time.Minute, "the hung call", func() error { return <-errc })
	assert.Equal(t, fault.Unavailable, fault.KindOf(callErr), "%v", callErr)

	in, err := r.Enable(admin(), "stub-slow")
	require.NoError(t, err)
	assert.Equal(t, StateReady, in.State)
	var m sdk.MatchResult
	require.NoError(t, r.Call(staff(), "stub-slow", sdk.HookIntentMatch, sdk.MatchRequest{Message: "x"}, &m))

	// Close does not wait for a hung call either.
	go func() {
		errc <- r.Call(staff(), "stub-slow", sdk.HookIntentHandle, sdk.IntentRequest{Message: "x"}, nil)
	}()
	require.Eventually(t, func() bool { return inflight(r, "stub-slow") }, 10*time.Second, time.Millisecond)
	require.NoError(t, within(t, time.Minute, "Close", func() error { return r.Close(context.Background()) }))
	assert.Equal(t, fault.Unavailable, fault.KindOf(within(t, time.Minute, "the hung call", func() error { return <-errc })))
}

type result struct {
	in  Info
	err error
}

// inflight reports whether a call holds the plugin's in-flight lock.
func inflight(r *Registry, name string) bool {
	e := r.find(name)
	if e.inflight.TryLock() {
		e.inflight.Unlock()
		return false
	}
	return true
}

// An uninterruptible call cannot be stopped: Disable still returns (it
// leaves the call behind after its drain timeout), and the plugin can be
// enabled again once the call has ended.
func TestDisableLeavesAnUninterruptibleCallBehind(t *testing.T) {
	path := writeManifest(t, plug{name: "stub-slow", provides: "{intents: [{name: slow.wait}]}", extra: "    limits: {timeout: 5m, concurrency: 1, interruptible: false}\n"})
	r := start(t, Options{ManifestPath: path, DrainTimeout: 20 * time.Millisecond})
	errc := make(chan error, 1)
	go func() {
		errc <- r.Call(staff(), "stub-slow", sdk.HookIntentHandle, sdk.IntentRequest{Message: "spin 300000000"}, nil)
	}()
	require.Eventually(t, func() bool { return inflight(r, "stub-slow") }, 10*time.Second, time.Millisecond)
	res := within(t, time.Minute, "Disable", func() result { in, err := r.Disable(admin(), "stub-slow"); return result{in, err} })
	require.NoError(t, res.err)
	assert.Equal(t, StateDisabled, res.in.State)
	assert.False(t, res.in.Enabled)

	// The call runs to its end; the closed module then fails it.
	err := within(t, time.Minute, "the spin", func() error { return <-errc })
	if err != nil {
		assert.Equal(t, fault.Unavailable, fault.KindOf(err), "%v", err)
	}
	require.Eventually(t, func() bool {
		in, err := r.Enable(admin(), "stub-slow")
		return err == nil && in.State == StateReady
	}, time.Minute, 50*time.Millisecond)
	var m sdk.MatchResult
	require.NoError(t, r.Call(staff(), "stub-slow", sdk.HookIntentMatch, sdk.MatchRequest{Message: "x"}, &m))
}

// Only admins (and the system) enable or disable plugins, whatever door
// the call comes through; refusals are audited (security review LOW 5).
func TestEnableDisableNeedsAnAdmin(t *testing.T) {
	path := writeManifest(t, plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}"})
	aud := &plugintest.Audit{}
	r := start(t, Options{ManifestPath: path, Services: hostcall.Services{Audit: aud}})
	tests := []struct {
		name string
		ctx  context.Context
		kind error
	}{
		{"staff", staff(), corefault.ErrForbidden},
		{"auditor", actor.With(context.Background(), actor.Actor{UserID: "user:9", Role: actor.RoleAuditor}), corefault.ErrForbidden},
		{"anonymous", context.Background(), corefault.ErrUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Disable(tc.ctx, "stub-echo")
			assert.ErrorIs(t, err, tc.kind)
			_, err = r.Enable(tc.ctx, "stub-echo")
			assert.ErrorIs(t, err, tc.kind)
			assert.Equal(t, StateReady, states(r)["stub-echo"])
		})
	}
	evs := aud.Events()
	require.Len(t, evs, 6)
	for _, ev := range evs {
		assert.Equal(t, audit.OutcomeDenied, ev.Outcome)
		assert.Equal(t, "stub-echo", ev.Record)
	}
	_, err := r.Disable(actor.System(context.Background()), "stub-echo")
	require.NoError(t, err, "the system (start-up, CLI) may")
}

// A change whose audit event cannot be stored is not made (fail closed),
// and the saved choice is put back.
func TestEnableDisableFailsClosedWithoutAudit(t *testing.T) {
	path := writeManifest(t, plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}"})
	aud := &plugintest.Audit{}
	st := &plugintest.State{}
	opts := Options{ManifestPath: path, State: st, Services: hostcall.Services{Audit: aud}}
	r := start(t, opts)
	aud.Fail = true
	_, err := r.Disable(admin(), "stub-echo")
	require.ErrorIs(t, err, ErrAudit)
	assert.Equal(t, StateReady, states(r)["stub-echo"])
	var m sdk.MatchResult
	require.NoError(t, r.Call(staff(), "stub-echo", sdk.HookIntentMatch, sdk.MatchRequest{Message: "echo"}, &m), "still serving")
	saved, err := st.Load(context.Background())
	require.NoError(t, err)
	assert.True(t, saved["stub-echo"], "the saved choice is put back")
	in, _ := r.Get("stub-echo")
	assert.True(t, in.Enabled)

	aud.Fail = false
	in, err = r.Disable(admin(), "stub-echo")
	require.NoError(t, err)
	assert.Equal(t, StateDisabled, in.State)
	aud.Fail = true
	_, err = r.Enable(admin(), "stub-echo")
	require.ErrorIs(t, err, ErrAudit)
	assert.Equal(t, StateDisabled, states(r)["stub-echo"])
}

// Spans record the fault kind only, never the plugin's error text or a
// guest's stderr (security review M6).
func TestSpansCarryNoPluginText(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	path := writeManifest(t,
		plug{name: "stub-trap", provides: "{intents: [{name: trap.now}]}"},
		plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}"})
	r := start(t, Options{ManifestPath: path, Tracer: tp})
	require.Error(t, r.Call(staff(), "stub-trap", sdk.HookIntentMatch, sdk.MatchRequest{Message: "exit"}, nil))
	require.Error(t, r.Call(staff(), "stub-echo", sdk.HookIntentHandle, sdk.IntentRequest{Message: "echo error"}, nil))
	spans := rec.Ended()
	require.Len(t, spans, 2)
	var texts []string
	for _, s := range spans {
		for _, ev := range s.Events() {
			for _, a := range ev.Attributes {
				if a.Key == attribute.Key("exception.message") {
					texts = append(texts, a.Value.AsString())
				}
			}
		}
	}
	assert.Equal(t, []string{"trap", "plugin_error:invalid_input"}, texts)
}

// Every plugin says how far it is trusted, with its pinned checksum; a
// process plugin is fully trusted, and its egress allow-list is shown.
func TestInfoShowsTrust(t *testing.T) {
	path := writeManifest(t,
		plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}"},
		plug{name: "stub-insurance", kind: "process", provides: "{insurance: true}", caps: []string{"network"},
			extra: "    network: {allowedHosts: [payer.example:443]}\n    enabled: false\n"})
	r := start(t, Options{ManifestPath: path, AllowedHosts: map[string][]string{"stub-insurance": {"127.0.0.1:9", "payer.example:443"}}})
	m, _, err := manifest.Load(path, sdk.Version)
	require.NoError(t, err)
	list := r.List()
	require.Len(t, list, 2)
	assert.Equal(t, TrustSandboxed, list[0].Trust)
	assert.Equal(t, m.Plugins[0].Artifact.SHA256, list[0].SHA256)
	assert.Empty(t, list[0].AllowedHosts)
	assert.Equal(t, TrustFull, list[1].Trust)
	assert.Len(t, list[1].SHA256, 64)
	assert.Equal(t, []string{"payer.example:443", "127.0.0.1:9"}, list[1].AllowedHosts)
}

// The log line that takes a plugin out of service names the fault kind,
// not the plugin's error text (which may quote patient data).
func TestTripLogCarriesNoPluginText(t *testing.T) {
	var buf syncBuffer
	path := writeManifest(t, plug{name: "stub-trap", provides: "{intents: [{name: trap.now}]}"})
	r := start(t, Options{ManifestPath: path, BreakerThreshold: 1, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	err := r.Call(staff(), "stub-trap", sdk.HookIntentHandle, sdk.IntentRequest{}, nil)
	require.ErrorContains(t, err, "assignment to entry in nil map")
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), "plugin taken out of service") }, 5*time.Second, 5*time.Millisecond)
	assert.Contains(t, buf.String(), "fault=panic")
	assert.NotContains(t, buf.String(), "nil map")
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
