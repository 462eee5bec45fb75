package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/sdk"
)

func TestAdapterNatively(t *testing.T) {
	res, err := adapter{}.CheckEligibility(context.Background(), sdk.EligibilityRequest{Payer: "HELLO", MemberID: "42"})
	require.NoError(t, err)
	assert.Equal(t, "active", res.Status)
}

// Built as a real executable and run through the real process host.
func TestThroughTheHost(t *testing.T) {
	exe, err := plugintest.BuildProcess("examples/insurance-hello")
	require.NoError(t, err)
	dir := t.TempDir()
	bin, err := os.ReadFile(exe)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "insurance-hello.bin"), bin, 0o755))
	sum, err := manifest.FileSHA256(filepath.Join(dir, "insurance-hello.bin"))
	require.NoError(t, err)
	man := "schema: pfinni/plugin-manifest/v1\nplugins:\n  - name: insurance-hello\n    version: 1.0.0\n    kind: process\n    sdk: \">=1.0.0 <2.0.0\"\n" +
		"    artifact: {path: insurance-hello.bin, sha256: \"" + hexString(sum) + "\"}\n    provides: {insurance: true}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin-manifest.yaml"), []byte(man), 0o644))

	reg, err := plugin.New(plugin.Options{ManifestPath: filepath.Join(dir, "plugin-manifest.yaml"), DataDir: plugintest.DataDir()})
	require.NoError(t, err)
	require.NoError(t, reg.Start(context.Background()))
	defer reg.Close(context.Background())

	res, err := reg.CheckEligibility(context.Background(), sdk.EligibilityRequest{Payer: "HELLO", MemberID: "42"})
	require.NoError(t, err)
	assert.Equal(t, "active", res.Status)
	assert.Equal(t, "HELLO-42", res.Reference)
}

func hexString(b []byte) string {
	const d = "0123456789abcdef"
	out := make([]byte, 0, 64)
	for _, c := range b {
		out = append(out, d[c>>4], d[c&15])
	}
	return string(out)
}
