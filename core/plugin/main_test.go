package plugin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/sdk"
)

// artifacts maps a stub name to its built file, built once per test binary.
var artifacts = map[string]string{}

func TestMain(m *testing.M) {
	for _, s := range []string{"stub-echo", "stub-trap", "stub-slow", "stub-oom", "stub-greedy", "stub-malformed", "stub-bad-abi", "stub-intent", "stub-knowledge", "stub-importer"} {
		p, err := plugintest.BuildWASM("plugins/" + s)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		artifacts[s] = p
	}
	for name, build := range map[string]func() (string, error){
		"stub-insurance":  func() (string, error) { return plugintest.BuildProcess("plugins/stub-insurance") },
		"intent-hello":    func() (string, error) { return plugintest.BuildWASM("examples/intent-hello") },
		"insurance-hello": func() (string, error) { return plugintest.BuildProcess("examples/insurance-hello") },
	} {
		p, err := build()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		artifacts[name] = p
	}
	os.Exit(m.Run())
}

// sharedData is the data dir (compilation cache) of registries whose
// test does not set one, so each module compiles once per machine.
var sharedData = plugintest.DataDir()

// plug describes one manifest entry for a test manifest.
type plug struct {
	name, stub, kind, provides, extra string
	caps                              []string
	badSum                            bool
}

// writeManifest lays out a plugin directory: artifacts copied under
// plugins/, a manifest with their real checksums. Returns the manifest path.
func writeManifest(t testing.TB, ps ...plug) string {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("schema: " + manifest.Schema + "\nplugins:\n")
	for _, p := range ps {
		if p.stub == "" {
			p.stub = p.name
		}
		if p.kind == "" {
			p.kind = "wasm"
		}
		rel := "plugins/" + p.name + "/" + filepath.Base(artifacts[p.stub])
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		src, err := os.ReadFile(artifacts[p.stub])
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dst, src, 0o755))
		sum, err := manifest.FileSHA256(dst)
		require.NoError(t, err)
		if p.badSum {
			sum[0] ^= 0xff
		}
		fmt.Fprintf(&b, "  - name: %s\n    version: 1.0.0\n    kind: %s\n    sdk: \">=1.0.0 <2.0.0\"\n    artifact: {path: %s, sha256: %x}\n    provides: %s\n    capabilities: [%s]\n%s",
			p.name, p.kind, rel, sum, p.provides, strings.Join(p.caps, ", "), p.extra)
	}
	path := filepath.Join(dir, "plugin-manifest.yaml")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

var patients = []sdk.PatientSummary{
	{ID: "patient:1", MRN: "MRN001", FirstName: "Ada", LastName: "Lovelace", Status: "active", ProviderID: "provider:1"},
	{ID: "patient:2", MRN: "MRN002", FirstName: "Alan", LastName: "Turing", Status: "churned", ProviderID: "provider:2"},
	{ID: "patient:3", MRN: "MRN003", FirstName: "Grace", LastName: "Hopper", Status: "active", ProviderID: "provider:1"},
}

func staff() context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: "user:7", Role: actor.RoleStaff, RequestID: "req-1"})
}

func admin() context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: "user:1", Role: actor.RoleAdmin, RequestID: "req-2"})
}

func start(t testing.TB, opts Options) *Registry {
	if opts.DataDir == "" {
		opts.DataDir = sharedData
	}
	r, err := New(opts)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

func states(r *Registry) map[string]State {
	out := map[string]State{}
	for _, in := range r.List() {
		out[in.Name] = in.State
	}
	return out
}
