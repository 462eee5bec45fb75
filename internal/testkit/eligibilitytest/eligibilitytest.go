// Package eligibilitytest starts what an eligibility test needs besides
// the database: the stub insurer (in-process, on loopback) and the real
// insurance-x12 process plugin, built from source and loaded through the
// real plugin registry with the stub as its endpoint. Only tests import it.
package eligibilitytest

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	stubinsurer "github.com/pfinni/pfinni/plugins/stub-insurer"
)

// Env is a running stub insurer and an insurance-x12 plugin pointed at it.
type Env struct {
	Stub     *httptest.Server
	Insurer  *stubinsurer.Stub
	Registry *plugin.Registry
	artifact string
}

// Kill sends SIGKILL to the running insurance-x12 process (found by its
// executable, which only this test started), as a crash would.
func (e *Env) Kill(t testing.TB) {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/exe")
	require.NoError(t, err)
	for _, exe := range procs {
		if target, err := os.Readlink(exe); err == nil && target == e.artifact {
			pid, err := strconv.Atoi(filepath.Base(filepath.Dir(exe)))
			require.NoError(t, err)
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
			return
		}
	}
	t.Fatal("the insurance-x12 process is not running")
}

// Options tune Start.
type Options struct {
	// Timeout is the plugin's insurer timeout (2s here, so that SLOW
	// member ids time out quickly; 20s in production).
	Timeout time.Duration
	// HostTimeout is the registry's limit on one plugin call (30s).
	HostTimeout time.Duration
}

// Start builds the plugin (cached per source state), starts the stub
// and a registry with only insurance-x12 enabled. Everything is closed
// at the end of the test.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.HostTimeout <= 0 {
		o.HostTimeout = 30 * time.Second
	}
	insurer := stubinsurer.New(stubinsurer.Options{})
	stub := httptest.NewServer(insurer)
	t.Cleanup(stub.Close)
	u, err := url.Parse(stub.URL)
	require.NoError(t, err)

	exe, err := plugintest.BuildProcess("plugins/insurance-x12")
	require.NoError(t, err)
	dir := t.TempDir()
	bin, err := os.ReadFile(exe)
	require.NoError(t, err)
	path := filepath.Join(dir, "insurance-x12.bin")
	require.NoError(t, os.WriteFile(path, bin, 0o755))
	sum, err := manifest.FileSHA256(path)
	require.NoError(t, err)
	man := fmt.Sprintf(`schema: pfinni/plugin-manifest/v1
plugins:
  - name: insurance-x12
    version: 1.0.0
    kind: process
    sdk: ">=1.0.0 <2.0.0"
    artifact: {path: insurance-x12.bin, sha256: %q}
    provides: {insurance: true}
    capabilities: [network]
    network: {allowedHosts: [%q]}
    limits: {timeout: %s}
    config: {url: %q, timeout: %q}
    enabled: true
`, hex.EncodeToString(sum), u.Host, o.HostTimeout, stub.URL+"/x12", o.Timeout.String())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin-manifest.yaml"), []byte(man), 0o644))
	reg, err := plugin.New(plugin.Options{ManifestPath: filepath.Join(dir, "plugin-manifest.yaml"), DataDir: plugintest.DataDir()})
	require.NoError(t, err)
	require.NoError(t, reg.Start(context.Background()))
	t.Cleanup(func() { _ = reg.Close(context.Background()) })
	require.Empty(t, reg.Problems())
	return &Env{Stub: stub, Insurer: insurer, Registry: reg, artifact: path}
}
