package plugin

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin/fault"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/sdk"
)

const intents = "{intents: [{name: patients.list, examples: [show me all active patients]}, {name: patients.count}, {name: nav.add_patient}]}"

func TestLifecycleAndRouting(t *testing.T) {
	path := writeManifest(t,
		plug{name: "stub-intent", provides: intents, caps: []string{"patients:read"}},
		plug{name: "stub-knowledge", provides: "{kbTopics: [hipaa, features]}"},
		plug{name: "stub-importer", provides: "{importFormats: [stub-csv]}"},
		plug{name: "stub-insurance", kind: "process", provides: "{insurance: true}"},
		plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}", caps: []string{"kb:read"}, extra: "    enabled: false\n    config: {prefix: \"> \"}\n"},
		plug{name: "tampered", stub: "stub-echo", provides: "{intents: [{name: echo.say}]}", badSum: true},
		plug{name: "no-abi", stub: "stub-bad-abi", provides: "{intents: [{name: echo.say}]}"},
		plug{name: "typo", stub: "stub-echo", provides: "{intents: [{name: echo.say}]}", extra: "    enabeld: true\n"},
	)
	aud := &plugintest.Audit{}
	state := &plugintest.State{}
	opts := Options{ManifestPath: path, State: state,
		Services: hostcall.Services{Patients: &plugintest.Patients{List: patients}, Audit: aud}}
	r := start(t, opts)

	// A bad entry is refused by name and field; the rest load.
	require.Len(t, r.Problems(), 1)
	assert.Contains(t, r.Problems()[0].Error(), `plugin "typo": field enabeld`)
	assert.Equal(t, map[string]State{"stub-intent": StateReady, "stub-knowledge": StateReady, "stub-importer": StateReady,
		"stub-insurance": StateReady, "stub-echo": StateDisabled, "tampered": StateFailed, "no-abi": StateFailed}, states(r))
	tampered, err := r.Get("tampered")
	require.NoError(t, err)
	assert.Contains(t, tampered.Reason, "checksum mismatch")
	noABI, _ := r.Get("no-abi")
	assert.Contains(t, noABI.Reason, "missing export pfinni_abi_v1")
	_, err = r.Get("nope")
	assert.ErrorIs(t, err, ErrNotFound)

	// Intent routing, with patients:read audited as the calling user.
	reply, ok, err := r.Respond(staff(), "show me all active patients", sdk.PageContext{Page: "/patients"})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "patients.list", reply.Intent)
	assert.Equal(t, "Here are the active patients (2).", reply.Reply)
	assert.EqualValues(t, 2, reply.Data["total"])
	require.Len(t, aud.Events(), 1)
	assert.Equal(t, "user:7", aud.Events()[0].Actor)
	assert.Equal(t, "plugin.patients.search", aud.Events()[0].Action)

	m, ok := r.MatchIntent(staff(), sdk.MatchRequest{Message: "how many churned patients"})
	require.True(t, ok)
	assert.Equal(t, IntentMatch{Plugin: "stub-intent", Intent: "patients.count", Score: 0.9, Entities: map[string]any{"status": "churned"}}, m)
	_, ok, err = r.Respond(staff(), "what is the weather", sdk.PageContext{})
	assert.False(t, ok)
	assert.NoError(t, err)
	assert.Len(t, r.Intents(), 3)

	kb, err := r.SearchKnowledge(staff(), sdk.KBSearchRequest{Query: "hipaa audit", Limit: 1})
	require.NoError(t, err)
	require.Len(t, kb.Articles, 1)
	assert.Equal(t, "hipaa-audit-controls", kb.Articles[0].ID)
	assert.Equal(t, "45 CFR 164.312(b)", kb.Articles[0].Citations[0].Source)

	assert.Equal(t, []string{"stub-csv"}, r.ImportFormats())
	imp, err := r.Importer().Import(staff(), sdk.ImportRequest{Format: "stub-csv", Document: []byte("# mrn,first,last,dob,sex\nM1,Ada,Lovelace,1815-12-10,female\n,No,Mrn,bad,x\n1,2\n")})
	require.NoError(t, err)
	require.Len(t, imp.Records, 2)
	assert.Equal(t, "M1", imp.Records[0].MRN)
	assert.Len(t, imp.Records[1].Problems, 3)
	assert.Len(t, imp.Problems, 1)
	_, err = r.Import(staff(), sdk.ImportRequest{Format: "ccda"})
	assert.ErrorIs(t, err, ErrNoPlugin)

	el, err := r.CheckEligibility(staff(), sdk.EligibilityRequest{Payer: "STUB", MemberID: "A1"})
	require.NoError(t, err)
	assert.Equal(t, "active", el.Status)

	// Runtime enable: the disabled plugin loads and serves, with its config.
	in, err := r.Enable(admin(), "stub-echo")
	require.NoError(t, err)
	assert.Equal(t, StateReady, in.State)
	var er sdk.IntentReply
	require.NoError(t, r.Call(staff(), "stub-echo", sdk.HookIntentHandle, sdk.IntentRequest{Message: "echo hi"}, &er))
	assert.Equal(t, "> hi", er.Reply)
	// kb:read answered by the registry's own knowledge modules.
	require.NoError(t, r.Call(staff(), "stub-echo", sdk.HookIntentHandle, sdk.IntentRequest{Message: "echo kb HIPAA"}, &er))
	assert.Equal(t, "2 articles", er.Reply)

	// Runtime disable: routing stops; the process plugin is stopped.
	in, err = r.Disable(admin(), "stub-insurance")
	require.NoError(t, err)
	assert.Equal(t, StateDisabled, in.State)
	assert.False(t, in.Enabled)
	_, err = r.CheckEligibility(staff(), sdk.EligibilityRequest{Payer: "STUB", MemberID: "A1"})
	assert.ErrorIs(t, err, ErrNoPlugin)
	err = r.Call(staff(), "stub-insurance", sdk.HookEligibility, sdk.EligibilityRequest{}, nil)
	assert.Equal(t, fault.Unavailable, fault.KindOf(err))
	assert.ErrorIs(t, r.Call(staff(), "nope", sdk.HookEligibility, nil, nil), ErrNotFound)
	_, err = r.Enable(admin(), "nope")
	assert.ErrorIs(t, err, ErrNotFound)

	// Enabling a plugin that cannot load leaves it failed, with the reason.
	in, err = r.Enable(admin(), "tampered")
	require.NoError(t, err)
	assert.Equal(t, StateFailed, in.State)

	// Admin changes are audited as the admin.
	var actions []string
	for _, ev := range aud.Events() {
		if ev.Resource == "plugin" {
			actions = append(actions, ev.Action+" "+ev.Record+" "+ev.Actor+" "+ev.Outcome)
		}
	}
	assert.Equal(t, []string{"plugin.enable stub-echo user:1 success", "plugin.disable stub-insurance user:1 success",
		"plugin.enable nope user:1 failure", "plugin.enable tampered user:1 success"}, actions)

	// Stats.
	in, _ = r.Get("stub-intent")
	assert.EqualValues(t, 4, in.Calls)
	assert.Positive(t, in.P50)
	assert.GreaterOrEqual(t, in.P99, in.P50)

	// The admin's choices persist across restarts.
	require.NoError(t, r.Close(context.Background()))
	require.NoError(t, r.Close(context.Background()))
	assert.Equal(t, fault.Unavailable, fault.KindOf(r.Call(staff(), "stub-echo", sdk.HookIntentMatch, sdk.MatchRequest{}, nil)))
	_, err = r.Disable(admin(), "stub-echo")
	assert.Error(t, err)
	r2 := start(t, opts)
	st := states(r2)
	assert.Equal(t, StateReady, st["stub-echo"])
	assert.Equal(t, StateDisabled, st["stub-insurance"])
}

func TestFaultIsolation(t *testing.T) {
	path := writeManifest(t,
		plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}", extra: "    limits: {timeout: 30s}\n"},
		plug{name: "stub-trap", provides: "{intents: [{name: trap.now}]}"},
		plug{name: "stub-slow", provides: "{intents: [{name: slow.wait}]}", extra: "    limits: {timeout: 100ms}\n"},
		plug{name: "stub-oom", provides: "{intents: [{name: oom.grow}]}", extra: "    limits: {memory: 32MiB, timeout: 30s}\n"},
		plug{name: "stub-greedy", provides: "{intents: [{name: greedy.grab}]}"},
		plug{name: "stub-malformed", provides: "{intents: [{name: bad.output}]}"},
	)
	r := start(t, Options{ManifestPath: path, BreakerThreshold: 3,
		Services: hostcall.Services{Patients: &plugintest.Patients{List: patients}, Audit: &plugintest.Audit{}}})

	// Other calls keep being served while the hostile plugins misbehave.
	stop := make(chan struct{})
	var served, failed int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			var rep sdk.IntentReply
			if err := r.Call(staff(), "stub-echo", sdk.HookIntentHandle, sdk.IntentRequest{Message: "echo ok"}, &rep); err != nil || rep.Reply != "ok" {
				failed++
			} else {
				served++
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	hostile := []struct {
		plugin string
		kind   fault.Kind
		text   string
	}{
		{"stub-trap", fault.Panic, "assignment to entry in nil map"},
		{"stub-slow", fault.Timeout, "exceeded its time limit"},
		{"stub-oom", fault.Memory, "memory limit of 32 MiB"},
		{"stub-greedy", fault.CapabilityDenied, "not granted patients:read"},
		{"stub-malformed", fault.Malformed, "outside guest memory"},
	}
	for _, h := range hostile {
		t.Run(h.plugin, func(t *testing.T) {
			for i := 0; i < 3; i++ {
				err := r.Call(staff(), h.plugin, sdk.HookIntentHandle, sdk.IntentRequest{Message: "x"}, &sdk.IntentReply{})
				require.Error(t, err)
				assert.Equal(t, h.kind, fault.KindOf(err), "%v", err)
				assert.ErrorContains(t, err, h.text)
				assert.ErrorContains(t, err, `plugin "`+h.plugin+`"`)
			}
			require.Eventually(t, func() bool { return states(r)[h.plugin] == StateFaulted }, 5*time.Second, 10*time.Millisecond)
			in, _ := r.Get(h.plugin)
			assert.Contains(t, in.Reason, "out of service after 3 consecutive faults")
			assert.EqualValues(t, 3, in.Faults)
			assert.Contains(t, in.LastError, h.text)
			err := r.Call(staff(), h.plugin, sdk.HookIntentHandle, sdk.IntentRequest{}, nil)
			assert.Equal(t, fault.Unavailable, fault.KindOf(err))
			assert.ErrorContains(t, err, "faulted")
		})
	}
	close(stop)
	wg.Wait()
	assert.Zero(t, failed)
	assert.Positive(t, served)
	assert.Equal(t, StateReady, states(r)["stub-echo"])

	// An admin puts a faulted plugin back into service.
	in, err := r.Enable(admin(), "stub-trap")
	require.NoError(t, err)
	assert.Equal(t, StateReady, in.State)
	var m sdk.MatchResult
	require.NoError(t, r.Call(staff(), "stub-trap", sdk.HookIntentMatch, sdk.MatchRequest{Message: "hi"}, &m))

	// Low-scoring claims lose to the best one.
	m2, ok := r.MatchIntent(staff(), sdk.MatchRequest{Message: "echo hi"})
	assert.True(t, ok)
	assert.Equal(t, "stub-echo", m2.Plugin)
}

func TestMatchRejectsUndeclaredIntent(t *testing.T) {
	path := writeManifest(t, plug{name: "stub-echo", provides: "{intents: [{name: other.intent}]}"})
	tripped := make(chan string, 1) // the alert hook (core/alerts)
	r := start(t, Options{ManifestPath: path, BreakerThreshold: 2, OnOutOfService: func(p string) { tripped <- p }})
	_, ok := r.MatchIntent(staff(), sdk.MatchRequest{Message: "echo hi"})
	assert.False(t, ok)
	in, _ := r.Get("stub-echo")
	assert.Contains(t, in.LastError, `claimed intent "echo.say"`)
	_, _ = r.MatchIntent(staff(), sdk.MatchRequest{Message: "echo hi"})
	require.Eventually(t, func() bool { return states(r)["stub-echo"] == StateFaulted }, 5*time.Second, 10*time.Millisecond)
	select {
	case p := <-tripped:
		assert.Equal(t, "stub-echo", p)
	case <-time.After(time.Minute):
		t.Fatal("the out-of-service hook was not called")
	}
}

func TestBreakerCooldown(t *testing.T) {
	path := writeManifest(t, plug{name: "stub-trap", provides: "{intents: [{name: trap.now}]}"})
	r := start(t, Options{ManifestPath: path, BreakerThreshold: 1, BreakerCooldown: 50 * time.Millisecond})
	_ = r.Call(staff(), "stub-trap", sdk.HookIntentHandle, sdk.IntentRequest{}, nil)
	require.Eventually(t, func() bool { return states(r)["stub-trap"] == StateFaulted }, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return states(r)["stub-trap"] == StateReady }, 5*time.Second, 5*time.Millisecond)
	in, _ := r.Get("stub-trap")
	assert.Contains(t, in.Reason, "probation")
	_ = r.Call(staff(), "stub-trap", sdk.HookIntentHandle, sdk.IntentRequest{}, nil)
	require.Eventually(t, func() bool { return states(r)["stub-trap"] == StateFaulted }, 5*time.Second, 5*time.Millisecond)
}

func TestStartErrors(t *testing.T) {
	_, err := New(Options{})
	assert.Error(t, err)

	r, err := New(Options{ManifestPath: filepath.Join(t.TempDir(), "missing.yaml")})
	require.NoError(t, err)
	assert.ErrorContains(t, r.Start(context.Background()), "read plugin manifest")

	path := writeManifest(t, plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}"})
	r, err = New(Options{ManifestPath: path, State: &plugintest.State{Fail: true}})
	require.NoError(t, err)
	assert.ErrorContains(t, r.Start(context.Background()), "load state")

	st := &plugintest.State{}
	r = start(t, Options{ManifestPath: path, State: st})
	st.Fail = true
	_, err = r.Disable(admin(), "stub-echo")
	assert.ErrorContains(t, err, "save state")
	assert.Equal(t, StateReady, states(r)["stub-echo"])

	// The data dir must be creatable.
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err = New(Options{ManifestPath: path, DataDir: file})
	assert.Error(t, err)
}

func TestDisableDrainsInflight(t *testing.T) {
	path := writeManifest(t, plug{name: "stub-slow", provides: "{intents: [{name: slow.wait}]}", extra: "    limits: {timeout: 500ms}\n"})
	r := start(t, Options{ManifestPath: path})
	errc := make(chan error, 1)
	go func() { errc <- r.Call(staff(), "stub-slow", sdk.HookIntentHandle, sdk.IntentRequest{}, nil) }()
	time.Sleep(200 * time.Millisecond)
	startAt := time.Now()
	_, err := r.Disable(admin(), "stub-slow")
	require.NoError(t, err)
	waited := time.Since(startAt)
	callErr := <-errc
	switch fault.KindOf(callErr) {
	case fault.Timeout: // the call was in flight: Disable waited for it
		assert.Greater(t, waited, 50*time.Millisecond)
	case fault.Unavailable: // (only on a very loaded machine) the call came after the swap
	default:
		t.Fatalf("unexpected: %v", callErr)
	}
	assert.Equal(t, fault.Unavailable, fault.KindOf(r.Call(staff(), "stub-slow", sdk.HookIntentHandle, nil, nil)))
}

// The core starts the registry in the background and serves meanwhile.
func TestConcurrentStartListAndAdmin(t *testing.T) {
	path := writeManifest(t,
		plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}"},
		plug{name: "stub-intent", provides: intents, caps: []string{"patients:read"}},
	)
	r, err := New(Options{ManifestPath: path, DataDir: sharedData})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- r.Start(context.Background()) }()
	for i := 0; i < 20; i++ {
		_ = r.List()
		_ = r.Problems()
		_, _ = r.MatchIntent(staff(), sdk.MatchRequest{Message: "echo"})
		_, _ = r.Disable(admin(), "stub-intent")
		_, _ = r.Enable(admin(), "stub-intent")
	}
	require.NoError(t, <-done)
	require.Eventually(t, func() bool { s := states(r); return s["stub-echo"] == StateReady && s["stub-intent"] == StateReady }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Close(context.Background()))
	for _, in := range r.List() {
		assert.NotEqual(t, StateLoading, in.State)
	}
}
