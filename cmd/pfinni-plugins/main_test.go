package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
)

const src = `# comment kept
schema: pfinni/plugin-manifest/v1
plugins:
  - name: alpha
    version: 1.0.0
    kind: wasm
    sdk: ">=1.0.0 <2.0.0"
    artifact: {path: a/alpha.wasm, sha256: ""}
    provides: {kbTopics: [x]}
  - name: beta
    version: 1.0.0
    kind: process
    sdk: 1.0.0
    artifact: {path: b/beta.bin}
    provides: {insurance: true}
  - name: gamma
    version: 1.0.0
    kind: wasm
    sdk: 1.0.0
    artifact: {path: missing.wasm}
    provides: {kbTopics: [x]}
`

func TestSumAndCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin-manifest.yaml")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	artifacts := map[string][]byte{"a/alpha.wasm": plugintest.WASMModule(sdkExports...), "b/beta.bin": []byte("b/beta.bin")}
	for f, b := range artifacts {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	var out strings.Builder
	assert.Error(t, run([]string{"check", "-manifest", path}, &out), "no checksums yet")

	out.Reset()
	require.NoError(t, run([]string{"sum", "-manifest", path}, &out))
	assert.Contains(t, out.String(), "skip gamma")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "# comment kept")
	m, problems, err := manifest.Parse(b, "1.0.0")
	require.NoError(t, err)
	require.Empty(t, problems)
	for _, e := range m.Plugins[:2] {
		_, err := manifest.Verify(dir, e)
		assert.NoError(t, err, e.Name)
	}

	out.Reset()
	require.NoError(t, run([]string{"check", "-manifest", path, "-only", "alpha,beta"}, &out))
	assert.Contains(t, out.String(), "ok: alpha 1.0.0 (wasm)")
	require.NoError(t, run([]string{"sum", "-manifest", path}, &out), "unchanged sums: no rewrite")

	assert.Error(t, run(nil, &out))
	assert.Error(t, run([]string{"frob", "-manifest", path}, &out))
	assert.Error(t, run([]string{"check", "-manifest", filepath.Join(dir, "nope.yaml")}, &out))
	assert.Error(t, run([]string{"check", "-bogus"}, &out))
}

// sdkExports are what sdk/wasm.Register exports, in a library build.
var sdkExports = []string{"_initialize", "pfinni_abi_v1", "pfinni_alloc", "pfinni_free", "pfinni_init", "pfinni_handle"}

// check fails a WASM module the host would refuse, naming the fix.
func TestCheckRefusesModulesTheHostWould(t *testing.T) {
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"no exports", plugintest.WASMModule(), "missing export pfinni_abi_v1"},
		{"built as a command", plugintest.WASMModule(append([]string{"_start"}, sdkExports[1:]...)...), "-buildmode=c-shared"},
		{"another SDK major", plugintest.WASMModule("_initialize", "pfinni_abi_v2", "pfinni_alloc", "pfinni_free", "pfinni_init", "pfinni_handle"), "sdk v1.x"},
		{"not wasm", []byte("a/alpha.wasm"), "compile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "plugin-manifest.yaml")
			require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "a"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "a/alpha.wasm"), tt.wasm, 0o644))
			var out strings.Builder
			require.NoError(t, run([]string{"sum", "-manifest", path, "-only", "alpha"}, &out))
			out.Reset()
			assert.Error(t, run([]string{"check", "-manifest", path, "-only", "alpha"}, &out))
			assert.Contains(t, out.String(), `bad: plugin "alpha"`)
			assert.Contains(t, out.String(), tt.want)
		})
	}
}

func TestBuildUpToDate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin-manifest.yaml")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	var out strings.Builder
	// The artifacts' package directories hold no Go code: the build fails
	// with the go tool's message, naming the plugin.
	err := run([]string{"build", "-manifest", path, "-only", "alpha"}, &out)
	assert.ErrorContains(t, err, "build alpha")
	assert.False(t, upToDate(dir, "./a", filepath.Join(dir, "a/alpha.wasm"), os.Environ()))
}

// build compiles an entry's package into its artifact, sums it, and
// skips it while the artifact is newer than its sources.
func TestBuildThenUpToDate(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "p"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/p\n\ngo 1.26\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p", "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644))
	man := "schema: pfinni/plugin-manifest/v1\nplugins:\n  - name: tiny\n    version: 1.0.0\n    kind: process\n    sdk: 1.0.0\n" +
		"    artifact: {path: p/tiny.bin}\n    provides: {insurance: true}\n"
	path := filepath.Join(dir, "plugin-manifest.yaml")
	require.NoError(t, os.WriteFile(path, []byte(man), 0o644))

	var out strings.Builder
	require.NoError(t, run([]string{"build", "-manifest", path}, &out), out.String())
	assert.Contains(t, out.String(), "build tiny (process) -> p/tiny.bin")
	assert.Contains(t, out.String(), "sha256 tiny ")
	out.Reset()
	require.NoError(t, run([]string{"build", "-manifest", path}, &out), out.String())
	assert.Contains(t, out.String(), "up to date tiny")
	out.Reset()
	require.NoError(t, run([]string{"check", "-manifest", path}, &out), out.String())
	assert.Contains(t, out.String(), "ok: tiny 1.0.0 (process)")
}
