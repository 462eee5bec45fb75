package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin/manifest"
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
	for _, f := range []string{"a/alpha.wasm", "b/beta.bin"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644))
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
