package api

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/core/store/storetest"
)

type readyBody struct {
	Status   string            `json:"status"`
	Database string            `json:"database"`
	Plugins  map[string]string `json:"plugins"`
}

// /readyz answers 503 while an enabled plugin is still loading, naming
// it, and 200 once every enabled plugin is loaded; /healthz answers 200
// throughout. Disabled plugins do not count.
func TestReadyzWaitsForPlugins(t *testing.T) {
	wasm, err := plugintest.BuildWASM("plugins/stub-echo")
	require.NoError(t, err)
	dir := t.TempDir()
	bin, err := os.ReadFile(wasm)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stub-echo.wasm"), bin, 0o644))
	sum, err := manifest.FileSHA256(filepath.Join(dir, "stub-echo.wasm"))
	require.NoError(t, err)
	entry := "  - name: %s\n    version: 1.0.0\n    kind: wasm\n    sdk: 1.0.0\n    artifact: {path: stub-echo.wasm, sha256: %x}\n    provides: {intents: [{name: echo.say}]}\n    enabled: %v\n"
	man := "schema: " + manifest.Schema + "\nplugins:\n" + fmt.Sprintf(entry, "echo-on", sum, true) + fmt.Sprintf(entry, "echo-off", sum, false)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin-manifest.yaml"), []byte(man), 0o644))
	reg, err := plugin.New(plugin.Options{ManifestPath: filepath.Join(dir, "plugin-manifest.yaml"), DataDir: plugintest.DataDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close(context.Background()) })
	require.NoError(t, reg.Open(context.Background()))

	srv := New(Deps{Logger: quiet, Config: testConfig(t), DB: storetest.New(t), Services: Services{Plugins: reg}})
	ready := func() (int, readyBody) {
		res, body := do(t, srv.App(), "GET", "/readyz", "")
		var b readyBody
		require.NoError(t, json.Unmarshal(body, &b), string(body))
		return res.StatusCode, b
	}
	code, b := ready()
	assert.Equal(t, 503, code)
	assert.Equal(t, readyBody{Status: "starting", Database: "ok", Plugins: map[string]string{"echo-on": "loading"}}, b)
	res, _ := do(t, srv.App(), "GET", "/healthz", "")
	assert.Equal(t, 200, res.StatusCode, "liveness does not wait")

	reg.LoadAll(context.Background())
	code, b = ready()
	assert.Equal(t, 200, code)
	assert.Equal(t, readyBody{Status: "ready", Database: "ok", Plugins: map[string]string{"echo-on": "ready"}}, b)
}
