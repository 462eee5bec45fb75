package chat_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/manifest"
)

// chatPlugins are the first-party chat plugins and what the test manifest
// declares for them (the real manifest's entries, trimmed).
var chatPlugins = []struct{ name, provides, caps string }{
	{"intent-patients", `{intents: [{name: patients.list}, {name: patients.count}, {name: patients.set_status}]}`, `['patients:read']`},
	{"intent-insights", `{intents: [{name: insights.summary}, {name: insights.trend}, {name: insights.churn}, {name: insights.onboarding}]}`, `[]`},
	{"intent-guide", `{intents: [{name: nav.goto}, {name: workflow.guide}, {name: form.help}, {name: error.explain}, {name: tour.start}, {name: suggest}, {name: decline}]}`, `[]`},
	{"kb-hipaa", `{kbTopics: [hipaa]}`, `[]`},
	{"kb-guide", `{kbTopics: [features]}`, `[]`},
}

var buildOnce sync.Mutex

// buildWASM builds a plugin with the manifest tool's flags, cached under
// the user cache directory by a hash of every source it may use (sdk,
// plugins/internal and the plugin itself).
func buildWASM(t testing.TB, name string) string {
	t.Helper()
	buildOnce.Lock()
	defer buildOnce.Unlock()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	h := sha256.New()
	for _, dir := range []string{"sdk", "plugins/internal", "plugins/" + name} {
		require.NoError(t, filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			fmt.Fprintln(h, p, len(b))
			h.Write(b)
			return err
		}))
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	out := filepath.Join(cache, "pfinni", "chattest", name+"-"+hex.EncodeToString(h.Sum(nil))[:16]+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	cmd := exec.Command("go", "build", "-trimpath", "-buildmode=c-shared", "-o", out+".tmp", "./plugins/"+name)
	cmd.Dir, cmd.Env = root, append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, string(b))
	require.NoError(t, os.Rename(out+".tmp", out))
	return out
}

// wasmRegistry loads the chat plugins as WASM through the real plugin
// registry and host, with patients:read answered by the patient service.
func wasmRegistry(t testing.TB, e *env) *plugin.Registry {
	t.Helper()
	reg := chatRegistry(t, e, 0)
	require.NoError(t, reg.Start(context.Background()))
	require.Empty(t, reg.Problems())
	return reg
}

// chatRegistry writes a manifest of the chat plugins, built as WASM, and
// opens a registry on it without loading them; loadWait 0 keeps the
// registry's default wait for plugins still loading.
func chatRegistry(t testing.TB, e *env, loadWait time.Duration) *plugin.Registry {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("schema: " + manifest.Schema + "\nplugins:\n")
	for _, p := range chatPlugins {
		src := buildWASM(t, p.name)
		rel := "plugins/" + p.name + "/" + p.name + ".wasm"
		dst := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		bin, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dst, bin, 0o644))
		sum, err := manifest.FileSHA256(dst)
		require.NoError(t, err)
		fmt.Fprintf(&b, "  - name: %s\n    version: 1.0.0\n    kind: wasm\n    sdk: \">=1.0.0 <2.0.0\"\n    artifact: {path: %s, sha256: %q}\n    provides: %s\n    capabilities: %s\n    limits: {timeout: 2s, memory: 64MiB, concurrency: 4, interruptible: false}\n    enabled: true\n",
			p.name, rel, hex.EncodeToString(sum), p.provides, p.caps)
	}
	mp := filepath.Join(dir, "plugin-manifest.yaml")
	require.NoError(t, os.WriteFile(mp, []byte(b.String()), 0o644))
	cacheDir, err := os.UserCacheDir()
	require.NoError(t, err)
	reg, err := plugin.New(plugin.Options{
		ManifestPath: mp, DataDir: filepath.Join(cacheDir, "pfinni", "chattest-data"), LoadWait: loadWait,
		Services: hostcall.Services{Patients: chat.HostPatients{Patients: e.patients}, Audit: e.audit},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close(context.Background()) })
	return reg
}

// TestWASMPlugins: the real WASM plugins through the real host answer
// like the in-process ones, including a status change that looks the
// patient up through the capability-gated host call.
func TestWASMPlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds WASM plugins")
	}
	base := newEnv(t, 150)
	reg := wasmRegistry(t, base)
	w, err := chat.New(context.Background(), chat.Deps{DB: base.db, Patients: base.patients, Intents: reg, Knowledge: reg, Now: fixedNow, Location: time.UTC, Audit: base.audit}, chat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })

	for _, tc := range []struct{ msg, intent string }{
		{"show me all actve patients", "patients.list"},
		{"how many churned this month?", "patients.count"},
		{"give me a summary", "insights.summary"},
		{"how do I add a new patient?", "nav.goto"},
		{"what is the minimum necessary rule", chat.IntentKnowledge},
		{"delete all patients", "decline"},
		{"tell me a joke", chat.IntentFallback},
	} {
		r, err := w.Ask(as(actor.RoleStaff), chat.Request{Message: tc.msg})
		require.NoError(t, err)
		assert.Equal(t, tc.intent, r.Intent, tc.msg)
	}
	all := allPatients(t, base.patients)
	p := all[5]
	r, err := w.Ask(as(actor.RoleStaff), chat.Request{Message: "set " + p.FirstName + " " + p.LastName + " " + p.MRN + " to inactive"})
	require.NoError(t, err)
	assert.Equal(t, "patients.set_status", r.Intent)
	ev, ok := base.audit.Last("plugin.patients.search")
	require.True(t, ok, "the host call is audited as the user")
	assert.Equal(t, "u_staff", ev.Actor)
}

// TestLatency measures a data question at 10,000 patients through the
// WASM plugins (make eval-chat prints it; not an assertion).
func TestLatency(t *testing.T) {
	if !*evalVerbose {
		t.Skip("run with -eval (make eval-chat)")
	}
	e := newEnv(t, 10_000)
	reg := wasmRegistry(t, e)
	for _, route := range []struct {
		name    string
		intents chat.Intents
		kb      chat.Knowledge
	}{{"in-process", e.plugins, e.plugins}, {"wasm", reg, reg}} {
		svc, err := chat.New(context.Background(), chat.Deps{DB: e.db, Patients: e.patients, Intents: route.intents, Knowledge: route.kb, Now: fixedNow, Location: time.UTC}, chat.Options{})
		require.NoError(t, err)
		msgs := []string{
			"show me all active patients", "how many churned this month?", "active patients in Denver over 60 without insurance",
			"upcoming birthdays", "top 5 newest patients", "find patients named Hannah", "patients of dr chen",
		}
		ctx := as(actor.RoleStaff)
		_, _ = svc.Ask(ctx, chat.Request{Message: "warm up"}) // builds the vocabulary snapshot
		var lat []time.Duration
		for i := 0; i < 400; i++ {
			start := time.Now()
			_, err := svc.Ask(ctx, chat.Request{Message: msgs[i%len(msgs)]})
			require.NoError(t, err)
			lat = append(lat, time.Since(start))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		fmt.Printf("chat latency, data questions, 10,000 patients, %s plugins (end to end: match, handle, directory query, audit, history write): n=%d p50=%v p95=%v p99=%v max=%v (target p99 <= 50ms)\n",
			route.name, len(lat), q(0.50).Round(time.Microsecond), q(0.95).Round(time.Microsecond), q(0.99).Round(time.Microsecond), slices.Max(lat).Round(time.Microsecond))
		_ = svc.Close()
	}
}
