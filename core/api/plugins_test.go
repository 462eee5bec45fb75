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

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// newPluginsEnv serves the plugins API over a real registry holding the
// real stub-echo WASM module, with a bearer token per role.
func newPluginsEnv(t *testing.T) (*Server, map[actor.Role][]string, *plugintest.Audit) {
	t.Helper()
	wasm, err := plugintest.BuildWASM("plugins/stub-echo")
	require.NoError(t, err)
	dir := t.TempDir()
	bin, err := os.ReadFile(wasm)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stub-echo.wasm"), bin, 0o644))
	sum, err := manifest.FileSHA256(filepath.Join(dir, "stub-echo.wasm"))
	require.NoError(t, err)
	man := fmt.Sprintf("schema: %s\nplugins:\n  - name: stub-echo\n    version: 1.0.0\n    kind: wasm\n    sdk: 1.0.0\n"+
		"    artifact: {path: stub-echo.wasm, sha256: %x}\n    provides: {intents: [{name: echo.say}]}\n    capabilities: [log]\n"+
		"  - name: broken\n    version: 1.0.0\n    kind: wasm\n    sdk: 1.0.0\n    artifact: {path: x.wasm}\n    provides: {intents: [{name: x.y}]}\n    colour: red\n", manifest.Schema, sum)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin-manifest.yaml"), []byte(man), 0o644))
	aud := &plugintest.Audit{}
	reg, err := plugin.New(plugin.Options{ManifestPath: filepath.Join(dir, "plugin-manifest.yaml"), DataDir: plugintest.DataDir(), Services: hostcall.Services{Audit: aud}})
	require.NoError(t, err)
	require.NoError(t, reg.Start(context.Background()))
	t.Cleanup(func() { _ = reg.Close(context.Background()) })

	db := storetest.New(t)
	svc := auth.New(db, &auditSink{}, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 10_000})
	srv := New(Deps{Logger: quiet, Config: testConfig(t), DB: db, Services: Services{Auth: svc, Plugins: reg}})
	tokens := map[actor.Role][]string{"": nil}
	sys := actor.System(context.Background())
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		_, err := svc.CreateUser(sys, auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, Password: apiTestPassword})
		require.NoError(t, err)
		res, body := do(t, srv.App(), "POST", "/api/v1/auth/login", `{"email":"`+string(r)+`@x.example","password":"`+apiTestPassword+`"}`)
		require.Equal(t, 200, res.StatusCode, string(body))
		var s sessionResponse
		require.NoError(t, json.Unmarshal(body, &s))
		tokens[r] = []string{"Authorization", "Bearer " + s.Token}
	}
	return srv, tokens, aud
}

func TestPluginsAPI(t *testing.T) {
	srv, tokens, aud := newPluginsEnv(t)
	app := srv.App()

	// Admin only, on every route.
	for _, route := range [][2]string{{"GET", "/api/v1/plugins"}, {"POST", "/api/v1/plugins/stub-echo/enable"}, {"POST", "/api/v1/plugins/stub-echo/disable"}} {
		for role, status := range map[actor.Role]int{"": 401, actor.RoleStaff: 403, actor.RoleAuditor: 403} {
			res, body := do(t, app, route[0], route[1], "", tokens[role]...)
			assert.Equal(t, status, res.StatusCode, "%s %s as %q: %s", route[0], route[1], role, body)
		}
	}

	tests := []struct {
		name, method, path string
		status             int
		check              func(t *testing.T, body []byte)
	}{
		{"list", "GET", "/api/v1/plugins", 200, func(t *testing.T, body []byte) {
			var l struct {
				Items    []map[string]any `json:"items"`
				Total    int              `json:"total"`
				Problems []string         `json:"problems"`
			}
			require.NoError(t, json.Unmarshal(body, &l))
			require.Equal(t, 1, l.Total)
			it := l.Items[0]
			assert.Equal(t, "stub-echo", it["name"])
			assert.Equal(t, "wasm", it["kind"])
			assert.Equal(t, "1.0.0", it["version"])
			assert.Equal(t, "ready", it["state"])
			assert.Equal(t, []any{"log"}, it["capabilities"])
			assert.Equal(t, "sandboxed", it["trust"], "process plugins say \"full\"")
			assert.Regexp(t, "^[0-9a-f]{64}$", it["sha256"])
			for _, k := range []string{"calls", "errors", "p50_ms", "p99_ms", "enabled"} {
				assert.Contains(t, it, k)
			}
			require.Len(t, l.Problems, 1)
			assert.Contains(t, l.Problems[0], `plugin "broken": field colour`)
		}},
		{"disable", "POST", "/api/v1/plugins/stub-echo/disable", 200, func(t *testing.T, body []byte) {
			assert.Contains(t, string(body), `"state":"disabled"`)
			assert.Contains(t, string(body), `"enabled":false`)
		}},
		{"enable", "POST", "/api/v1/plugins/stub-echo/enable", 200, func(t *testing.T, body []byte) {
			assert.Contains(t, string(body), `"state":"ready"`)
		}},
		{"unknown plugin", "POST", "/api/v1/plugins/nope/enable", 404, func(t *testing.T, body []byte) {
			assert.Equal(t, 404, problemOfBody(t, body).Status)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, app, tc.method, tc.path, "", tokens[actor.RoleAdmin]...)
			require.Equal(t, tc.status, res.StatusCode, string(body))
			tc.check(t, body)
		})
	}

	// Each change is audited as the admin.
	var got []string
	for _, ev := range aud.Events() {
		got = append(got, ev.Action+" "+ev.Record+" "+ev.Role+" "+ev.Outcome)
	}
	assert.Equal(t, []string{"plugin.disable stub-echo admin success", "plugin.enable stub-echo admin success", "plugin.enable nope admin failure"}, got)
}

// A manifest entry refused at start is listed with its reason, and
// enabling it answers 409 naming the reason rather than 404.
func TestPluginsAPIRefusedEntry(t *testing.T) {
	srv, tokens, _ := newPluginsEnv(t)
	app := srv.App()

	res, body := do(t, app, "GET", "/api/v1/plugins", "", tokens[actor.RoleAdmin]...)
	require.Equal(t, 200, res.StatusCode, string(body))
	var l struct {
		Refused       []map[string]any `json:"refused"`
		RestartNeeded string           `json:"restart_needed"`
	}
	require.NoError(t, json.Unmarshal(body, &l))
	require.Len(t, l.Refused, 1)
	assert.Equal(t, "broken", l.Refused[0]["name"])
	assert.Equal(t, "refused", l.Refused[0]["state"])
	assert.Contains(t, l.Refused[0]["reason"], "field colour")
	assert.Empty(t, l.RestartNeeded)

	res, body = do(t, app, "POST", "/api/v1/plugins/broken/enable", "", tokens[actor.RoleAdmin]...)
	require.Equal(t, 409, res.StatusCode, string(body))
	p := problemOfBody(t, body)
	assert.Contains(t, p.Detail, "field colour")
	assert.Contains(t, p.Detail, "restart pfinni")
}
