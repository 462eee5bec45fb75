package plugin

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/sdk"
)

// opened returns a registry that has read its manifest (every enabled
// plugin "loading") but loaded nothing yet: a server in its first seconds.
func opened(t *testing.T, opts Options) *Registry {
	t.Helper()
	if opts.DataDir == "" && opts.CacheDir == "" {
		opts.DataDir = sharedData
	}
	r, err := New(opts)
	require.NoError(t, err)
	require.NoError(t, r.Open(context.Background()))
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// Calls that arrive while their plugins are still loading wait for them
// and are answered, instead of failing with "not in service" (the first
// seconds after a start used to fail chat and imports for good).
func TestCallsWaitForPluginsStillLoading(t *testing.T) {
	path := writeManifest(t,
		plug{name: "stub-intent", provides: intents, caps: []string{"patients:read"}},
		plug{name: "stub-knowledge", provides: "{kbTopics: [hipaa, features]}"},
		plug{name: "stub-importer", provides: "{importFormats: [stub-csv]}"},
		plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}", extra: "    enabled: false\n"},
	)
	// Cold compiles under -race on a busy 2-core machine take minutes:
	// the bound under test here is the wait, not the machine's speed.
	r := opened(t, Options{ManifestPath: path, LoadWait: 10 * time.Minute,
		Services: hostcall.Services{Patients: &plugintest.Patients{List: patients}, Audit: &plugintest.Audit{}}})

	rd := r.Readiness()
	assert.False(t, rd.Ready, "nothing is loaded yet")
	assert.Equal(t, map[string]State{"stub-intent": StateLoading, "stub-knowledge": StateLoading, "stub-importer": StateLoading}, rd.Plugins,
		"enabled plugins only, each loading")

	type answer struct {
		intent string
		kb     int
		recs   int
		err    error
	}
	got := make(chan answer, 3)
	go func() {
		reply, ok, err := r.Respond(staff(), "show me all active patients", sdk.PageContext{Page: "/patients"})
		if !ok && err == nil {
			err = assert.AnError
		}
		got <- answer{intent: reply.Intent, err: err}
	}()
	go func() {
		res, err := r.SearchKnowledge(staff(), sdk.KBSearchRequest{Query: "hipaa audit", Limit: 1})
		got <- answer{kb: len(res.Articles), err: err}
	}()
	go func() {
		res, err := r.Import(staff(), sdk.ImportRequest{Format: "stub-csv", Document: []byte("# mrn,first,last,dob,sex\nM1,Ada,Lovelace,1815-12-10,female\n")})
		got <- answer{recs: len(res.Records), err: err}
	}()
	changed := r.Changed()
	r.LoadAll(context.Background())
	select {
	case <-changed:
	default:
		t.Fatal("Changed did not fire when the plugins became ready")
	}
	var all answer
	for range 3 {
		a := <-got
		require.NoError(t, a.err)
		all.intent += a.intent
		all.kb += a.kb
		all.recs += a.recs
	}
	assert.Equal(t, answer{intent: "patients.list", kb: 1, recs: 1}, all)
	rd = r.Readiness()
	assert.True(t, rd.Ready)
	assert.Equal(t, StateReady, rd.Plugins["stub-importer"])
	require.NoError(t, r.WaitReady(context.Background()))

	// A plugin that is simply disabled is not waited for: no such plugin.
	_, err := r.Import(staff(), sdk.ImportRequest{Format: "ccda"})
	assert.ErrorIs(t, err, ErrNoPlugin)
	assert.NotErrorIs(t, err, ErrLoading)
}

// The wait is bounded: a call for a plugin that is still loading when
// LoadWait has passed fails with ErrLoading (which is an ErrNoPlugin), and
// a call for a plugin that is not enabled fails at once with ErrNoPlugin.
func TestWaitForLoadingPluginIsBounded(t *testing.T) {
	path := writeManifest(t,
		plug{name: "stub-importer", provides: "{importFormats: [stub-csv]}"},
		plug{name: "stub-insurance", kind: "process", provides: "{insurance: true}", extra: "    enabled: false\n"},
	)
	r := opened(t, Options{ManifestPath: path, LoadWait: time.Millisecond})
	_, err := r.Import(staff(), sdk.ImportRequest{Format: "stub-csv"})
	assert.ErrorIs(t, err, ErrLoading)
	assert.ErrorIs(t, err, ErrNoPlugin)
	assert.ErrorIs(t, r.WaitReady(context.Background()), ErrLoading)
	_, err = r.CheckEligibility(staff(), sdk.EligibilityRequest{Payer: "STUB"})
	assert.ErrorIs(t, err, ErrNoPlugin)
	assert.NotErrorIs(t, err, ErrLoading)

	// The caller's context bounds the wait too.
	long := opened(t, Options{ManifestPath: path})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, long.WaitReady(ctx), context.Canceled)
}

// Compiled modules are cached per artifact checksum in CacheDir, which
// outlives a data dir: a second registry on a new data dir with the same
// cache does not compile again. Each load is reported to Progress. (The
// smallest stub that loads, since compiling is slow under -race.)
func TestCompilationCacheSurvivesANewDataDir(t *testing.T) {
	path := writeManifest(t, plug{name: "stub-malformed", provides: "{intents: [{name: bad.output}]}"})
	cache := t.TempDir()
	load := func() []LoadProgress {
		var steps []LoadProgress
		r := opened(t, Options{ManifestPath: path, CacheDir: cache, DataDir: t.TempDir(),
			Progress: func(p LoadProgress) { steps = append(steps, p) }})
		r.LoadAll(context.Background())
		require.True(t, r.Readiness().Ready)
		require.NoError(t, r.Close(context.Background()))
		return steps
	}
	first := load()
	require.Len(t, first, 1)
	assert.Equal(t, LoadProgress{Plugin: "stub-malformed", Done: 1, Total: 1, State: StateReady, Compiled: true, Took: first[0].Took}, first[0],
		"a new cache compiles the module")
	second := load()
	require.Len(t, second, 1)
	assert.False(t, second[0].Compiled, "the second start reads the module from the cache")
	assert.Equal(t, StateReady, second[0].State)
}
