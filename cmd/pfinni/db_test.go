package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/bench"
)

// syncBuffer is an output buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDBServe runs `pfinni db serve` on a free port with its own data
// dir and returns the database URL once it accepts connections; it is
// interrupted (a graceful stop) at the end of the test.
func startDBServe(t *testing.T, bin, user, pass string) string {
	t.Helper()
	port, err := freePort()
	require.NoError(t, err)
	wd, _ := os.Getwd()
	dir := t.TempDir()
	cmd := exec.Command(bin, "db", "serve", "--addr", "127.0.0.1:"+port, "--user", user, "--password", pass)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PFINNI_DATA_DIR=" + dir,
		"PFINNI_DBHOST_DIR=" + filepath.Join(wd, "..", "..", "dbhost")}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	require.Eventually(t, func() bool {
		return strings.Contains(out.String(), "database listening on")
	}, 2*time.Minute, 50*time.Millisecond, "db serve did not start: %s", out)
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 5*time.Second)
	require.NoError(t, err)
	_ = c.Close()
	return "ws://127.0.0.1:" + port
}

// `pfinni db serve` runs the embedded engine as a server on a fixed
// address; two `pfinni serve` processes share it through PFINNI_DB_URL
// and the credential: a patient created through one is read through the
// other. A client with the wrong password is refused.
func TestDBServeSharedByTwoServeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts three processes")
	}
	bin := buildBinary(t)
	const user, pass = "shared_root", "Shared-db-pass-0123456789"
	dbURL := startDBServe(t, bin, user, pass)
	creds := []string{"PFINNI_DB_USER=" + user, "PFINNI_DB_PASSWORD=" + pass}
	_, a := startServe(t, bin, dbURL, "shared", creds...)
	_, b := startServe(t, bin, dbURL, "shared", creds...)

	ctx := context.Background()
	ca, cb := bench.NewClient(a, 1), bench.NewClient(b, 1)
	require.NoError(t, ca.Login(ctx, "admin@example.org", serveAdminPassword))
	require.NoError(t, cb.Login(ctx, "admin@example.org", serveAdminPassword), "the admin made by the first process signs in on the second")
	var p struct {
		ID  string `json:"id"`
		MRN string `json:"mrn"`
	}
	require.NoError(t, ca.Do(ctx, "POST", "/api/v1/patients", map[string]any{
		"mrn": "DB-SERVE-1", "first_name": "Dana", "last_name": "Served", "date_of_birth": "1981-04-05", "sex": "female"}, &p))
	var got struct {
		ID  string `json:"id"`
		MRN string `json:"mrn"`
	}
	require.Eventually(t, func() bool {
		return cb.Do(ctx, "GET", "/api/v1/patients/"+p.ID, nil, &got) == nil && got.ID == p.ID
	}, time.Minute, 50*time.Millisecond, "the second process reads the patient the first created")
	assert.Equal(t, "DB-SERVE-1", got.MRN)

	// The wrong password is refused: the second process's database is
	// not open to anyone who can reach the port.
	wrong := exec.Command(bin, "jobs", "list")
	wrong.Dir = t.TempDir()
	wrong.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PFINNI_DATA_DIR=" + wrong.Dir,
		"PFINNI_DB_URL=" + dbURL, "PFINNI_DB_NAMESPACE=test", "PFINNI_DB_DATABASE=shared",
		"PFINNI_DB_USER=" + user, "PFINNI_DB_PASSWORD=not-the-password-000",
		"PFINNI_PLUGINS_MANIFEST=" + filepath.Join(wrong.Dir, "none.yaml"), "PFINNI_LOG_LEVEL=error"}
	outb, err := wrong.CombinedOutput()
	assert.Error(t, err, "signed in with the wrong password: %s", outb)
}

// db serve refuses to start without a credential or with a weak one.
func TestDBServeNeedsACredential(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"db"}, "usage: pfinni db serve"},
		{"no credential", []string{"db", "serve", "--addr", "127.0.0.1:0"}, "name the root user and password"},
		{"short password", []string{"db", "serve", "--addr", "127.0.0.1:0", "--user", "u", "--password", "short"}, "16 to 128"},
		{"bad address", []string{"db", "serve", "--addr", "nowhere", "--user", "u", "--password", "Long-enough-password-1"}, "address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PFINNI_DATA_DIR", t.TempDir())
			var out bytes.Buffer
			err := run(context.Background(), tc.args, &out, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
