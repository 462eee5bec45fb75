package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const good = `
  - name: intent-ok
    version: 1.0.0
    kind: wasm
    sdk: ">=1.0.0 <2.0.0"
    artifact: {path: plugins/a.wasm, sha256: "` + zeros + `"}
    provides:
      intents: [{name: patients.list, examples: ["show me all active patients"]}]
    capabilities: [patients:read, log]
    limits: {timeout: 1500ms, memory: 32MiB, concurrency: 4}
    config: {threshold: 0.5}
`

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func entry(name, body string) string {
	return "\n  - name: " + name + "\n    version: 1.0.0\n    kind: wasm\n    sdk: 1.0.0\n    artifact: {path: x.wasm}\n    provides: {kbTopics: [hipaa]}\n" + body
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		entries string
		field   string // expected field in the error; "" means valid
		msg     string
	}{
		{"valid", good, "", ""},
		{"unknown top field", entry("plug-a", "    colour: red\n"), "colour", "unknown field"},
		{"unknown nested field", entry("plug-a", "    limits: {timeout: 1s, cpu: 2}\n"), "limits.cpu", "unknown field"},
		{"unknown intent field", strings.Replace(entry("plug-a", ""), "provides: {kbTopics: [hipaa]}", "provides: {intents: [{name: a.b, exmples: [x]}]}", 1), "provides.intents[0].exmples", "unknown field"},
		{"bad name", strings.Replace(entry("plug-a", ""), "plug-a", "Plug_A", 1), "name", "must match"},
		{"bad version", strings.Replace(entry("plug-a", ""), "version: 1.0.0", "version: one", 1), "version", "semantic"},
		{"bad kind", strings.Replace(entry("plug-a", ""), "kind: wasm", "kind: dll", 1), "kind", "wasm or process"},
		{"sdk major 2", strings.Replace(entry("plug-a", ""), "sdk: 1.0.0", `sdk: ">=2.0.0 <3.0.0"`, 1), "sdk", "major 2"},
		{"sdk major 0", strings.Replace(entry("plug-a", ""), "sdk: 1.0.0", `sdk: "^0.9.0"`, 1), "sdk", "major 0"},
		{"sdk newer minor", strings.Replace(entry("plug-a", ""), "sdk: 1.0.0", `sdk: ">=1.4.0"`, 1), "sdk", "does not satisfy"},
		{"sdk missing", strings.Replace(entry("plug-a", ""), "sdk: 1.0.0", "", 1), "sdk", "required"},
		{"sdk bad op", strings.Replace(entry("plug-a", ""), "sdk: 1.0.0", `sdk: "!1.0.0"`, 1), "sdk", "not a version"},
		{"no artifact", strings.Replace(entry("plug-a", ""), "artifact: {path: x.wasm}", "", 1), "artifact.path", "required"},
		{"escaping artifact", strings.Replace(entry("plug-a", ""), "x.wasm", "../x.wasm", 1), "artifact.path", "stay below"},
		{"bad sha", strings.Replace(entry("plug-a", ""), "{path: x.wasm}", "{path: x.wasm, sha256: ABC}", 1), "artifact.sha256", "64 lowercase"},
		{"provides nothing", strings.Replace(entry("plug-a", ""), "provides: {kbTopics: [hipaa]}", "provides: {}", 1), "provides", "at least one"},
		{"bad intent", strings.Replace(entry("plug-a", ""), "provides: {kbTopics: [hipaa]}", "provides: {intents: [{name: Bad Intent}]}", 1), "provides.intents[0].name", "dotted"},
		{"bad format", strings.Replace(entry("plug-a", ""), "provides: {kbTopics: [hipaa]}", "provides: {importFormats: [C C]}", 1), "provides.importFormats[0]", "format name"},
		{"wasm insurance", strings.Replace(entry("plug-a", ""), "provides: {kbTopics: [hipaa]}", "provides: {insurance: true}", 1), "provides.insurance", "process"},
		{"unknown capability", entry("plug-a", "    capabilities: [patients:write]\n"), "capabilities[0]", "unknown capability"},
		{"network on wasm", entry("plug-a", "    capabilities: [network]\n"), "capabilities[0]", "process plugins only"},
		{"hosts without network", entry("plug-a", "    network: {allowedHosts: [a.example]}\n"), "network.allowedHosts", "network capability"},
		{"bad host", strings.Replace(entry("plug-a", "    capabilities: [network]\n    network: {allowedHosts: [\"a b\"]}\n"), "kind: wasm", "kind: process", 1), "network.allowedHosts[0]", "host[:port]"},
		{"bad wildcard", strings.Replace(entry("plug-a", "    capabilities: [network]\n    network: {allowedHosts: [ok.example, \"api*.example\"]}\n"), "kind: wasm", "kind: process", 1), "network.allowedHosts[1]", "one leading label"},
		{"bad timeout", entry("plug-a", "    limits: {timeout: soon}\n"), "", "not a duration"},
		{"long timeout", entry("plug-a", "    limits: {timeout: 1h}\n"), "limits.timeout", "between"},
		{"small memory", entry("plug-a", "    limits: {memory: 1MiB}\n"), "limits.memory", "16MiB"},
		{"bad memory", entry("plug-a", "    limits: {memory: lots}\n"), "", "not a size"},
		{"big concurrency", entry("plug-a", "    limits: {concurrency: 1000}\n"), "limits.concurrency", "between"},
		{"not a mapping", "\n  - just a string\n", "", "mapping"},
		{"limits not a mapping", entry("plug-a", "    limits: [1]\n"), "limits", "mapping"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Every case sits between two valid entries, which must still load.
			src := "schema: " + Schema + "\nplugins:" + entry("first-ok", "") + tc.entries + entry("last-ok", "")
			m, errs, err := Parse([]byte(src), "1.2.0")
			require.NoError(t, err)
			names := []string{}
			for _, p := range m.Plugins {
				names = append(names, p.Name)
			}
			assert.Contains(t, names, "first-ok")
			assert.Contains(t, names, "last-ok")
			if tc.msg == "" {
				assert.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1, "names: %v", names)
			assert.Equal(t, tc.field, errs[0].Field)
			assert.Contains(t, errs[0].Error(), tc.msg)
			assert.Contains(t, errs[0].Error(), "plugin ")
			assert.Positive(t, errs[0].Line)
		})
	}
}

func TestParseValues(t *testing.T) {
	m, errs, err := Parse([]byte("schema: "+Schema+"\nplugins:"+good), "1.0.0")
	require.NoError(t, err)
	require.Empty(t, errs)
	e := m.Plugins[0]
	assert.Equal(t, KindWASM, e.Kind)
	assert.Equal(t, 1500*time.Millisecond, e.Limits.Timeout.Std())
	assert.Equal(t, ByteSize(32<<20), e.Limits.Memory)
	assert.Equal(t, 4, e.Limits.Concurrency)
	assert.Equal(t, 0.5, e.Config["threshold"])
	assert.True(t, e.IsEnabled())
	assert.True(t, e.Has("patients:read"))
	assert.False(t, e.Has("kb:read"))
	assert.Equal(t, "patients.list", e.Provides.Intents[0].Name)

	d := Limits{}.WithDefaults()
	assert.Equal(t, DefaultTimeout, d.Timeout.Std())
	assert.Equal(t, ByteSize(DefaultMemory), d.Memory)
	assert.Equal(t, DefaultConcurrency, d.Concurrency)

	out, _ := e.Limits.Memory.MarshalYAML()
	assert.Equal(t, "32MiB", out)
	out, _ = ByteSize(1000).MarshalYAML()
	assert.Equal(t, int64(1000), out)
	out, _ = e.Limits.Timeout.MarshalYAML()
	assert.Equal(t, "1.5s", out)
}

func TestParseFatal(t *testing.T) {
	for name, src := range map[string]string{
		"not yaml":        "schema: [",
		"scalar":          "hello",
		"wrong schema":    "schema: pfinni/plugin-manifest/v9\nplugins: []",
		"unknown top key": "schema: " + Schema + "\nplugin: []",
		"plugins scalar":  "schema: " + Schema + "\nplugins: 3",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Parse([]byte(src), "1.0.0")
			assert.Error(t, err)
		})
	}
	m, errs, err := Parse([]byte("schema: "+Schema), "1.0.0")
	require.NoError(t, err)
	assert.Empty(t, errs)
	assert.Empty(t, m.Plugins)

	_, errs, err = Parse([]byte("schema: "+Schema+"\nplugins:"+entry("dup-name", "")+entry("dup-name", "")), "1.0.0")
	require.NoError(t, err)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "duplicate")
}

func TestCheckSDK(t *testing.T) {
	for c, ok := range map[string]bool{
		"1.0.0": true, "v1.0.0": true, ">=1.0.0 <2.0.0": true, "^1.0.0": true, "~1.2.0": true,
		">1.0.0": true, "<=1.2.0": true, "=1.0.0": true, "1.3.0": false, "~1.1.0": false, ">1.2.0": false,
		"<1.2.0": false, "2.0.0": false, "1.x": false, ">=1.0.0, <2.0.0": true,
	} {
		err := CheckSDK(c, "1.2.0")
		assert.Equal(t, ok, err == nil, "%s: %v", c, err)
	}
	assert.Error(t, CheckSDK("1.0.0", "one"))
}

func TestLoadAndVerify(t *testing.T) {
	dir := t.TempDir()
	art := filepath.Join(dir, "plugins", "a.wasm")
	require.NoError(t, os.MkdirAll(filepath.Dir(art), 0o755))
	require.NoError(t, os.WriteFile(art, []byte("hello"), 0o644))
	sum, err := FileSHA256(art)
	require.NoError(t, err)

	src := strings.Replace("schema: "+Schema+"\nplugins:"+good, zeros, hexOf(sum), 1)
	path := filepath.Join(dir, "plugin-manifest.yaml")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	m, errs, err := Load(path, "1.0.0")
	require.NoError(t, err)
	require.Empty(t, errs)
	e := m.Plugins[0]
	assert.Equal(t, art, e.ArtifactPath(dir))
	got, err := Verify(dir, e)
	require.NoError(t, err)
	assert.Equal(t, sum, got)

	require.NoError(t, os.WriteFile(art, []byte("tampered"), 0o644))
	_, err = Verify(dir, e)
	assert.ErrorIs(t, err, ErrChecksum)
	assert.Contains(t, err.Error(), `plugin "intent-ok"`)

	e.Artifact.SHA256 = ""
	_, err = Verify(dir, e)
	assert.ErrorIs(t, err, ErrNoChecksum)

	e.Artifact.SHA256 = zeros
	e.Artifact.Path = "missing.wasm"
	_, err = Verify(dir, e)
	assert.ErrorContains(t, err, "read artifact")

	_, _, err = Load(filepath.Join(dir, "nope.yaml"), "1.0.0")
	assert.Error(t, err)
	require.NoError(t, os.WriteFile(path, []byte("schema: x"), 0o644))
	_, _, err = Load(path, "1.0.0")
	assert.ErrorIs(t, err, ErrSchema)
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
