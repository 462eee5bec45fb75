package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/store/storetest"
)

// Helpers for the tests that run `pfinni serve` as a real process (two
// instances, SIGKILL, attacks, webhooks).

// serveAdminPassword is the bootstrap admin's password of startServe.
const serveAdminPassword = "Serve-process-pass-1"

// builtBinary is the pfinni binary the process tests share: built once
// per test run, not once per test.
var builtBinary struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// buildBinary returns the path of a pfinni binary built from this
// package (once per test run; the folder goes with the process).
func buildBinary(t *testing.T) string {
	t.Helper()
	builtBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "pfinni-bin-")
		if err != nil {
			builtBinary.err = err
			return
		}
		wd, _ := os.Getwd()
		builtBinary.path = filepath.Join(dir, "pfinni")
		build := exec.Command("go", "build", "-o", builtBinary.path, ".")
		build.Dir = wd
		builtBinary.out, builtBinary.err = build.CombinedOutput()
	})
	require.NoError(t, builtBinary.err, string(builtBinary.out))
	return builtBinary.path
}

// killable is a `pfinni serve` process the test may SIGKILL.
type killable struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

// startServe starts `pfinni serve` on the shared engine's database dbName
// with extra environment, waits for /readyz and returns the process and
// its base URL; it is SIGKILLed at the end unless killed before.
func startServe(t *testing.T, bin, dbURL, dbName string, env ...string) (*killable, string) {
	t.Helper()
	port, err := freePort()
	require.NoError(t, err)
	dir := t.TempDir()
	user, pass := storetest.Credentials()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"PFINNI_HTTP_ADDR=127.0.0.1:" + port, "PFINNI_DATA_DIR=" + dir, "PFINNI_DB_URL=" + dbURL,
		"PFINNI_DB_NAMESPACE=test", "PFINNI_DB_DATABASE=" + dbName,
		"PFINNI_DB_USER=" + user, "PFINNI_DB_PASSWORD=" + pass,
		"PFINNI_ADMIN_EMAIL=admin@example.org", "PFINNI_ADMIN_PASSWORD=" + serveAdminPassword,
		"PFINNI_PLUGINS_MANIFEST=" + filepath.Join(dir, "none.yaml"), "PFINNI_LOG_LEVEL=error"}, env...)
	k := &killable{cmd: cmd, out: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = k.out, k.out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { k.kill() })
	base := "http://127.0.0.1:" + port
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, 5*time.Minute, 50*time.Millisecond, "server did not start") // cold plugin compiles under -race take minutes
	return k, base
}

func (k *killable) kill() {
	if k.cmd.ProcessState == nil {
		_ = k.cmd.Process.Kill() // SIGKILL: no graceful stop, leases stay
		_ = k.cmd.Wait()
	}
}
