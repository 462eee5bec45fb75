package wasmhost

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/plugin/fault"
	"github.com/pfinni/pfinni/sdk"
)

func handle(t testing.TB, m *Module, ctx context.Context, msg string) (sdk.IntentReply, error) {
	in, _ := json.Marshal(sdk.IntentRequest{Message: msg, Intent: "echo.say"})
	out, err := m.Call(ctx, sdk.HookIntentHandle, in)
	var r sdk.IntentReply
	if err == nil {
		require.NoError(t, json.Unmarshal(out, &r))
	}
	return r, err
}

func TestEchoRoundTrip(t *testing.T) {
	f := newFixture(t, t.TempDir())
	m := f.load(t, Config{Name: "stub-echo", Capabilities: []string{"patients:read", "kb:read", "log"}, InitConfig: json.RawMessage(`{"prefix":"> "}`)})
	assert.Equal(t, "stub-echo", m.Name())

	in, _ := json.Marshal(sdk.MatchRequest{Message: "echo hi"})
	out, err := m.Call(staff(), sdk.HookIntentMatch, in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"intent":"echo.say","score":0.9}`, string(out))

	r, err := handle(t, m, staff(), "echo hello world")
	require.NoError(t, err)
	assert.Equal(t, "> hello world", r.Reply)

	r, err = handle(t, m, staff(), "echo patients active")
	require.NoError(t, err)
	assert.Equal(t, "2 patients", r.Reply)
	assert.EqualValues(t, 2, r.Data["total"])
	evs := f.audit.Events()
	require.Len(t, evs, 1)
	assert.Equal(t, audit.Event{Actor: "user:7", Role: "staff", Action: "plugin.patients.search", Resource: "patient", Outcome: audit.OutcomeSuccess, RequestID: "req-1",
		Detail: "plugin stub-echo; 2 of 2 records: patient:1,patient:3"}, evs[0])

	r, err = handle(t, m, staff(), "echo kb hipaa")
	require.NoError(t, err)
	assert.Equal(t, "1 articles", r.Reply)

	r, err = handle(t, m, staff(), "echo log call 555-123-4567 about jane@example.com")
	require.NoError(t, err)
	assert.Equal(t, "logged", r.Reply)
	r, err = handle(t, m, staff(), "echo print born 1970-01-02")
	require.NoError(t, err)
	assert.Equal(t, "printed", r.Reply)
	logs := strings.Join(f.logs.all(), "\n")
	assert.Contains(t, logs, "call [number] about [email] plugin=stub-echo source=guest")
	assert.Contains(t, logs, "born [date] plugin=stub-echo source=stdout")
	assert.NotContains(t, logs, "555")

	_, err = handle(t, m, staff(), "echo error")
	var se *sdk.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sdk.CodeInvalidInput, se.Code)
	assert.False(t, fault.Counts(err))

	r, err = handle(t, m, staff(), "echo big 100000")
	require.NoError(t, err)
	assert.Len(t, r.Reply, 100000)

	_, err = m.Call(staff(), sdk.HookKBSearch, []byte(`{}`))
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sdk.CodeUnsupported, se.Code)

	require.NoError(t, m.Health(staff()))
}

func TestHostCallRefusals(t *testing.T) {
	f := newFixture(t, "")
	m := f.load(t, Config{Name: "stub-echo", Capabilities: []string{"log"}})

	// Not granted: the call is a fault even though the guest returned the error.
	_, err := handle(t, m, staff(), "echo patients active")
	assert.Equal(t, fault.CapabilityDenied, fault.KindOf(err))
	assert.ErrorContains(t, err, "not granted patients:read")
	require.Len(t, f.audit.Events(), 1)
	assert.Equal(t, audit.OutcomeDenied, f.audit.Events()[0].Outcome)

	_, err = handle(t, m, staff(), "echo kb x")
	assert.Equal(t, fault.CapabilityDenied, fault.KindOf(err))

	// Granted but the user may not: a deliberate error, not a fault.
	m2 := f.load(t, Config{Name: "stub-echo", Capabilities: []string{"patients:read"}})
	_, err = handle(t, m2, context.Background(), "echo patients active")
	var se *sdk.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sdk.CodeForbidden, se.Code)
	assert.False(t, fault.Counts(err))

	// Log without the capability is dropped and counted.
	_, err = handle(t, m2, staff(), "echo log hi")
	assert.Equal(t, fault.CapabilityDenied, fault.KindOf(err))
}

func TestGreedyIsFaulted(t *testing.T) {
	f := newFixture(t, "")
	m := f.load(t, Config{Name: "stub-greedy"})
	_, err := handle(t, m, staff(), "anything")
	assert.Equal(t, fault.CapabilityDenied, fault.KindOf(err))
	assert.ErrorContains(t, err, `plugin "stub-greedy" intent.handle`)
}

func TestHostileModules(t *testing.T) {
	f := newFixture(t, "")
	tests := []struct {
		name string
		cfg  Config
		hook string
		msg  string
		kind fault.Kind
		text string
	}{
		{"panic", Config{Name: "stub-trap"}, sdk.HookIntentHandle, "x", fault.Panic, "assignment to entry in nil map"},
		{"exit", Config{Name: "stub-trap"}, sdk.HookIntentMatch, "exit", fault.Trap, "exited with code 3: fatal error: stub-trap exits on purpose"},
		{"infinite loop", Config{Name: "stub-slow", Timeout: 500 * time.Millisecond}, sdk.HookIntentHandle, "x", fault.Timeout, "exceeded its time limit"},
		{"memory", Config{Name: "stub-oom", MemoryLimit: 32 << 20, Timeout: 30 * time.Second}, sdk.HookIntentHandle, "x", fault.Memory, "memory limit of 32 MiB"},
		{"not json", Config{Name: "stub-malformed"}, sdk.HookIntentMatch, "x", fault.Malformed, "malformed output"},
		{"bad pointer", Config{Name: "stub-malformed"}, sdk.HookIntentHandle, "x", fault.Malformed, "outside guest memory"},
		{"empty envelope", Config{Name: "stub-malformed"}, sdk.HookKBSearch, "x", fault.Malformed, "neither ok nor error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := f.load(t, tc.cfg)
			in, _ := json.Marshal(sdk.IntentRequest{Message: tc.msg})
			start := time.Now()
			_, err := m.Call(staff(), tc.hook, in)
			require.Error(t, err)
			assert.Equal(t, tc.kind, fault.KindOf(err), "%v", err)
			assert.ErrorContains(t, err, tc.text)
			assert.True(t, fault.Counts(err))
			assert.Less(t, time.Since(start), 45*time.Second)
			// The instance was discarded; the plugin still serves.
			if tc.cfg.Name != "stub-malformed" {
				_, err = m.Call(staff(), sdk.HookIntentMatch, []byte(`{"message":"ok"}`))
				assert.NoError(t, err)
			}
		})
	}
}

func TestLoadRefusals(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	_, err := f.engine.Load(ctx, Config{Name: "stub-bad-abi", Wasm: wasmBin["stub-bad-abi"]})
	assert.ErrorIs(t, err, ErrABI)
	assert.ErrorContains(t, err, `load wasm plugin "stub-bad-abi"`)
	assert.ErrorContains(t, err, "pfinni_abi_v1")

	_, err = f.engine.Load(ctx, Config{Name: "junk", Wasm: []byte("not wasm")})
	assert.ErrorContains(t, err, "compile")

	_, err = f.engine.Load(ctx, Config{Name: "stub-echo", Wasm: wasmBin["stub-echo"], InitConfig: json.RawMessage(`{"fail":true}`)})
	assert.ErrorContains(t, err, "config asks init to fail")

	_, err = f.engine.Load(ctx, Config{Name: "stub-echo", Wasm: wasmBin["stub-echo"], MemoryLimit: 1 << 20})
	assert.ErrorContains(t, err, "over limit")
}

func TestPoolAndClose(t *testing.T) {
	f := newFixture(t, "")
	m := f.load(t, Config{Name: "stub-echo", Concurrency: 3})
	done := make(chan error, 12)
	for i := 0; i < 12; i++ {
		go func() {
			_, err := handle(t, m, staff(), "echo x")
			done <- err
		}()
	}
	for i := 0; i < 12; i++ {
		assert.NoError(t, <-done)
	}
	assert.LessOrEqual(t, len(m.idle), 3)

	// A caller waiting for an instance gives up with its context.
	slow := f.load(t, Config{Name: "stub-slow", Concurrency: 1, Timeout: 300 * time.Millisecond})
	go func() { _, _ = handle(t, slow, staff(), "x") }()
	require.Eventually(t, func() bool { return len(slow.idle) == 0 }, 10*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(staff(), 20*time.Millisecond)
	defer cancel()
	_, err := slow.Call(ctx, sdk.HookIntentMatch, []byte(`{}`))
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// The caller's own cancellation is not the plugin's fault.
	ctx2, cancel2 := context.WithTimeout(staff(), 50*time.Millisecond)
	defer cancel2()
	time.Sleep(300 * time.Millisecond)
	_, err = handle(t, slow, ctx2, "x")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, fault.Counts(err))

	require.NoError(t, m.Close(context.Background()))
	require.NoError(t, m.Close(context.Background()))
	_, err = handle(t, m, staff(), "echo x")
	assert.Equal(t, fault.Unavailable, fault.KindOf(err))
	assert.Equal(t, fault.Unavailable, fault.KindOf(m.Health(staff())))
}

func TestCompilationCacheOnDisk(t *testing.T) {
	if raceEnabled {
		t.Skip("a cold compile under -race takes minutes; covered by the non-race run")
	}
	dir := t.TempDir()
	f := newFixture(t, dir)
	f.load(t, Config{Name: "stub-echo"})
	require.NoError(t, f.engine.Close(context.Background()))
	entries, err := filepathGlob(dir)
	require.NoError(t, err)
	assert.NotEmpty(t, entries, "compiled module cached on disk")

	f2 := newFixture(t, dir)
	start := time.Now()
	f2.load(t, Config{Name: "stub-echo"})
	t.Logf("load with warm disk cache: %s", time.Since(start))
}

func TestTrapSummary(t *testing.T) {
	err := errors.New("wasm error: unreachable\nwasm stack trace:\n\t.runtime.abort(i32) i32\n\t.main.__oom_.Handle(i32) i32\n\t.pfinni_handle(i32,i32,i32,i32) i64")
	assert.Equal(t, "wasm error: unreachable (in main.__oom_.Handle)", trapSummary(err))
	assert.Equal(t, "boom", trapSummary(errors.New("boom")))
}

func TestHealthWithoutExport(t *testing.T) {
	f := newFixture(t, "")
	m := f.load(t, Config{Name: "stub-malformed"})
	assert.NoError(t, m.Health(staff()))
	e := f.load(t, Config{Name: "stub-echo"})
	ctx, cancel := context.WithCancel(staff())
	cancel()
	assert.ErrorIs(t, e.Health(ctx), context.Canceled)
}

func TestGrantedClockAndRandom(t *testing.T) {
	f := newFixture(t, "")
	m := f.load(t, Config{Name: "stub-echo", Capabilities: []string{"clock", "random"}})
	r, err := handle(t, m, staff(), "echo tick")
	require.NoError(t, err)
	assert.Equal(t, "tick", r.Reply)
}

func TestReleaseAfterClose(t *testing.T) {
	f := newFixture(t, "")
	m := f.load(t, Config{Name: "stub-echo", Concurrency: 1})
	inst, err := m.acquire(staff())
	require.NoError(t, err)
	require.NoError(t, m.Close(context.Background()))
	m.release(inst) // an in-flight call finishing after Close frees its instance
	assert.Empty(t, m.slots)
	assert.Empty(t, m.idle)
}

func TestEngineConfig(t *testing.T) {
	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	require.NoError(t, e.Close(context.Background()))
	file := t.TempDir() + "/file"
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err = NewEngine(EngineConfig{CacheDir: file + "/cache"})
	assert.ErrorContains(t, err, "wasm compilation cache")
}

func TestLargeArguments(t *testing.T) {
	f := newFixture(t, "")
	m := f.load(t, Config{Name: "stub-echo", Concurrency: 1})
	big := strings.Repeat("z", 200<<10) // past the scratch buffer: a one-off guest buffer
	r, err := handle(t, m, staff(), "echo "+big)
	require.NoError(t, err)
	assert.Len(t, r.Reply, len(big))
	r, err = handle(t, m, staff(), "echo small")
	require.NoError(t, err)
	assert.Equal(t, "small", r.Reply)
}

// An uninterruptible module (first-party plugins) runs without wazero's
// context-done checks; a call past its limit still fails as a timeout,
// once it returns.
func TestUninterruptible(t *testing.T) {
	f := newFixture(t, t.TempDir())
	m := f.load(t, Config{Name: "stub-echo", Uninterruptible: true, InitConfig: json.RawMessage(`{"prefix":"> "}`)})
	r, err := handle(t, m, staff(), "echo hello world")
	require.NoError(t, err)
	assert.Equal(t, "> hello world", r.Reply)

	late := f.load(t, Config{Name: "stub-echo", Uninterruptible: true, Timeout: time.Nanosecond})
	_, err = handle(t, late, staff(), "echo big 100000")
	require.Error(t, err)
	assert.Equal(t, fault.Timeout, fault.KindOf(err))
}

// Guest stdout is logged only for a plugin granted "log" (security
// review M6); the crash tail is kept either way.
func TestOutputNeedsLogCapability(t *testing.T) {
	f := newFixture(t, "")
	m := f.load(t, Config{Name: "stub-echo", Capabilities: []string{"patients:read"}})
	r, err := handle(t, m, staff(), "echo print patient Ada Lovelace")
	require.NoError(t, err)
	assert.Equal(t, "printed", r.Reply)
	for _, l := range f.logs.all() {
		assert.NotContains(t, l, "Lovelace")
	}
	assert.Empty(t, f.logs.all())

	trap := f.load(t, Config{Name: "stub-trap"})
	_, err = trap.Call(staff(), sdk.HookIntentMatch, []byte(`{"message":"exit"}`))
	assert.ErrorContains(t, err, "fatal error: stub-trap exits on purpose", "the crash tail still explains the fault")
	assert.Empty(t, f.logs.all())
}

// Closing a module interrupts a hung call at once: it fails as
// unavailable, not after its (long) time limit and not as a trap.
func TestCloseInterruptsHungCall(t *testing.T) {
	f := newFixture(t, "")
	m := f.load(t, Config{Name: "stub-slow", Concurrency: 1, Timeout: 10 * time.Minute})
	errc := make(chan error, 1)
	go func() { _, err := handle(t, m, staff(), "x"); errc <- err }()
	require.Eventually(t, func() bool { return len(m.idle) == 0 }, 10*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond) // let the guest enter its loop
	require.NoError(t, m.Close(context.Background()))
	select {
	case err := <-errc:
		assert.Equal(t, fault.Unavailable, fault.KindOf(err), "%v", err)
		assert.ErrorContains(t, err, "stopped during the call")
	case <-time.After(time.Minute):
		t.Fatal("the hung call was not interrupted by Close")
	}
}
