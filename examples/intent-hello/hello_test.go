package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/sdktest"
)

// Natively, through the same dispatch the WASM runtime uses.
func TestHandlerNatively(t *testing.T) {
	p, ok := wasmRegistered()
	require.True(t, ok)
	host := &sdktest.Host{}
	var m sdk.MatchResult
	require.NoError(t, sdktest.Call(context.Background(), p, host, sdk.HookIntentMatch, sdk.MatchRequest{Message: "Hello there"}, &m))
	assert.Equal(t, "greeting.hello", m.Intent)
	var r sdk.IntentReply
	require.NoError(t, sdktest.Call(context.Background(), p, host, sdk.HookIntentHandle, sdk.IntentRequest{Message: "hi", Context: sdk.PageContext{Page: "/patients"}}, &r))
	assert.Len(t, r.Actions, 1)
	assert.Equal(t, []string{"greeting on /patients"}, host.Logs())
}

// Built as a real WASM module and run through the real host.
func TestThroughTheHost(t *testing.T) {
	wasmPath, err := plugintest.BuildWASM("examples/intent-hello")
	require.NoError(t, err)
	dir := t.TempDir()
	bin, err := os.ReadFile(wasmPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "intent-hello.wasm"), bin, 0o644))
	sum, err := manifest.FileSHA256(filepath.Join(dir, "intent-hello.wasm"))
	require.NoError(t, err)
	man := "schema: pfinni/plugin-manifest/v1\nplugins:\n  - name: intent-hello\n    version: 1.0.0\n    kind: wasm\n    sdk: \">=1.0.0 <2.0.0\"\n" +
		"    artifact: {path: intent-hello.wasm, sha256: \"" + hexString(sum) + "\"}\n    provides: {intents: [{name: greeting.hello}]}\n    capabilities: [log]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin-manifest.yaml"), []byte(man), 0o644))

	reg, err := plugin.New(plugin.Options{ManifestPath: filepath.Join(dir, "plugin-manifest.yaml"), DataDir: plugintest.DataDir()})
	require.NoError(t, err)
	require.NoError(t, reg.Start(context.Background()))
	defer reg.Close(context.Background())

	ctx := actor.With(context.Background(), actor.Actor{UserID: "user:1", Role: actor.RoleStaff})
	reply, ok, err := reg.Respond(ctx, "hello", sdk.PageContext{Page: "/patients"})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "greeting.hello", reply.Intent)
	assert.Contains(t, reply.Reply, "Hello!")
	assert.Equal(t, "/patients/new", reply.Actions[0].Target)
}

func hexString(b []byte) string {
	const d = "0123456789abcdef"
	out := make([]byte, 0, 64)
	for _, c := range b {
		out = append(out, d[c>>4], d[c&15])
	}
	return string(out)
}
