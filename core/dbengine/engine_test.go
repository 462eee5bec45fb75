package dbengine

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func hostDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	dir, err := FindHostDir(wd)
	require.NoError(t, err)
	return dir
}

func alive(pid int) bool {
	if pid == 0 {
		return false
	}
	// A zombie still answers kill(0); read its state instead.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] != "Z"
}

func dialable(url string) bool {
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "ws://"), time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func TestStartRestartStop(t *testing.T) {
	e, err := Start(context.Background(), Config{Path: "mem://", HostDir: hostDir(t)})
	require.NoError(t, err)
	require.True(t, e.Ready())
	first := e.PID()
	require.True(t, dialable(e.URL()))

	// A crash is noticed and the engine comes back on a new process.
	e.Kill()
	require.Eventually(t, func() bool { return e.Ready() && e.PID() != first }, 30*time.Second, 50*time.Millisecond)
	assert.True(t, dialable(e.URL()))
	second := e.PID()

	require.NoError(t, e.Stop())
	assert.False(t, e.Ready())
	assert.Eventually(t, func() bool { return !alive(second) }, 5*time.Second, 50*time.Millisecond, "no orphan engine after Stop")
	require.NoError(t, e.Stop(), "Stop twice is harmless")
}

func TestMissingPackagesExplained(t *testing.T) {
	_, err := Start(context.Background(), Config{Path: "mem://", HostDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "npm packages missing")
}

func TestHostThatExitsIsReported(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(dir+"/node_modules/@surrealdb/node", 0o755))
	require.NoError(t, os.WriteFile(dir+"/host.mjs", []byte(`console.error("boom: cannot open"); process.exit(3)`), 0o644))
	_, err := Start(context.Background(), Config{Path: "mem://", HostDir: dir})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "boom: cannot open")
}

func TestHostThatNeverAnswersTimesOut(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(dir+"/node_modules/@surrealdb/node", 0o755))
	require.NoError(t, os.WriteFile(dir+"/host.mjs", []byte(`setInterval(() => {}, 1000)`), 0o644))
	_, err := Start(context.Background(), Config{Path: "mem://", HostDir: dir, StartTimeout: 500 * time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no answer")
}

func TestFindHostDirFromSubfolder(t *testing.T) {
	dir := hostDir(t)
	assert.True(t, strings.HasSuffix(dir, "dbhost"))
	t.Setenv("PFINNI_DBHOST_DIR", "/x/y")
	got, err := FindHostDir("/")
	require.NoError(t, err)
	assert.Equal(t, "/x/y", got)
	t.Setenv("PFINNI_DBHOST_DIR", "")
	_, err = FindHostDir("/")
	assert.Error(t, err)
}

// The engine host exits when the core's pipe closes, even if the core is
// killed without a chance to stop it.
func TestHostExitsWhenParentPipeCloses(t *testing.T) {
	e, err := Start(context.Background(), Config{Path: "mem://", HostDir: hostDir(t)})
	require.NoError(t, err)
	pid := e.PID()
	e.mu.Lock()
	e.stopped = true // keep the supervisor from restarting it
	stdin := e.stdin
	e.mu.Unlock()
	require.NoError(t, stdin.Close())
	assert.Eventually(t, func() bool { return !alive(pid) }, 10*time.Second, 50*time.Millisecond)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
