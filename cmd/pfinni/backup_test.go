package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/app"
	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/config"
)

// cliEnv runs pfinni commands in this process, each on the embedded
// engine of the data dir it is given (a fresh installation per dir).
type cliEnv struct{ t *testing.T }

func newCLIEnv(t *testing.T) cliEnv {
	t.Setenv("PFINNI_PLUGINS_MANIFEST", filepath.Join(t.TempDir(), "none.yaml"))
	t.Setenv("PFINNI_LOG_LEVEL", "error")
	t.Setenv("PFINNI_DEMO_PATIENTS", "0")
	t.Setenv("PFINNI_BACKUP_KEY", "")
	return cliEnv{t: t}
}

func (c cliEnv) run(dataDir string, args ...string) (string, error) {
	c.t.Setenv("PFINNI_DATA_DIR", dataDir)
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), err
}

// digests opens dataDir's database and counts and hashes it as a backup
// would, its audit trail up to seq.
func (c cliEnv) digests(dataDir string, seq int64) (map[string]backup.Digest, backup.Head) {
	c.t.Setenv("PFINNI_DATA_DIR", dataDir)
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	config.RegisterFlags(fs)
	cfg, err := config.Load(fs, os.Environ())
	require.NoError(c.t, err)
	a, err := app.Open(context.Background(), cfg, app.Options{Out: io.Discard, NoHTTP: true, StoreOnly: true})
	require.NoError(c.t, err)
	defer a.Close(context.Background())
	got, head, err := backup.Digests(context.Background(), a.DB, seq)
	require.NoError(c.t, err)
	return got, head
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o600))
}

// TestBackupRestoreDrill is the restore drill of docs/operations.md: seed
// an installation, back it up, restore into a fresh data dir; every
// table's count and content hash is the same, and the audit trail
// verifies and reaches its anchored head.
func TestBackupRestoreDrill(t *testing.T) {
	env := newCLIEnv(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	file := filepath.Join(t.TempDir(), "drill.pfbak")

	_, err := env.run(dirA, "user", "create", "--email", "drill@example.org", "--name", "Drill Admin", "--role", "admin", "--password", "Drill-pass-12345")
	require.NoError(t, err)
	_, err = env.run(dirA, "seed", "--patients", "40")
	require.NoError(t, err)
	out, err := env.run(dirA, "backup", "--out", file)
	require.NoError(t, err)
	assert.Contains(t, out, "wrote "+file)
	assert.Contains(t, out, "keep "+filepath.Join(dirA, "audit.key"))

	m, err := backup.Inspect(file)
	require.NoError(t, err)
	assert.Equal(t, 40, m.Tables["patient"].Count)
	assert.Equal(t, 1, m.Tables["user"].Count)
	assert.Positive(t, m.AuditHead.Seq)
	assert.False(t, m.Encrypted)

	// An unencrypted backup does not carry the audit key: refused,
	// saying which file to copy where.
	_, err = env.run(dirB, "restore", file)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "audit.key")
	assert.Contains(t, err.Error(), filepath.Join(dirB, "audit.key"))

	for _, k := range m.KeyFiles {
		copyFile(t, filepath.Join(dirA, k.Name), filepath.Join(dirB, k.Name))
	}
	out, err = env.run(dirB, "restore", file)
	require.NoError(t, err)
	assert.Contains(t, out, "restored drill.pfbak")
	assert.Contains(t, out, "audit chain OK")

	got, head := env.digests(dirB, m.AuditHead.Seq)
	assert.Equal(t, m.Tables, got, "identical counts and content hashes")
	assert.Equal(t, m.AuditHead, head)

	out, err = env.run(dirB, "audit", "verify")
	require.NoError(t, err)
	assert.Contains(t, out, "audit chain OK")
	assert.Contains(t, out, "reaches the anchored head")

	// A second restore finds the database full.
	_, err = env.run(dirB, "restore", file)
	require.ErrorIs(t, err, backup.ErrNotEmpty)
	assert.Contains(t, err.Error(), "--force")
	out, err = env.run(dirB, "restore", "--force", file)
	require.NoError(t, err)
	assert.Contains(t, out, "audit chain OK")
	got, _ = env.digests(dirB, m.AuditHead.Seq)
	assert.Equal(t, m.Tables, got)
}

// TestEncryptedBackupCarriesTheKeys: with PFINNI_BACKUP_KEY the backup is
// sealed and carries the key files, so a fresh data dir needs only the
// key; a missing or wrong key is refused with a clear message.
func TestEncryptedBackupCarriesTheKeys(t *testing.T) {
	env := newCLIEnv(t)
	dirA, dirC := t.TempDir(), t.TempDir()
	file := filepath.Join(t.TempDir(), "sealed.pfbak")
	key := hex.EncodeToString(bytes.Repeat([]byte{0x42}, 32))

	_, err := env.run(dirA, "seed", "--patients", "12")
	require.NoError(t, err)
	t.Setenv("PFINNI_BACKUP_KEY", key)
	out, err := env.run(dirA, "backup", "--out", file)
	require.NoError(t, err)
	assert.Contains(t, out, "it carries the key files")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "seed", "nothing of the content is readable")

	t.Setenv("PFINNI_BACKUP_KEY", "")
	_, err = env.run(dirC, "restore", file)
	require.ErrorIs(t, err, backup.ErrBadKey)
	assert.Contains(t, err.Error(), "PFINNI_BACKUP_KEY")

	t.Setenv("PFINNI_BACKUP_KEY", strings.Repeat("ab", 32))
	_, err = env.run(dirC, "restore", file)
	require.ErrorIs(t, err, backup.ErrBadKey)

	t.Setenv("PFINNI_BACKUP_KEY", key)
	out, err = env.run(dirC, "restore", file)
	require.NoError(t, err)
	assert.Contains(t, out, "audit chain OK")
	_, err = os.Stat(filepath.Join(dirC, "audit.key"))
	require.NoError(t, err, "the audit key came with the backup")

	out, err = env.run(dirC, "backup", "list")
	require.NoError(t, err)
	assert.Contains(t, out, "no backups in "+filepath.Join(dirC, "backups"))
	out, err = env.run(dirC, "backup")
	require.NoError(t, err)
	assert.Contains(t, out, filepath.Join(dirC, "backups", "pfinni-"))
	out, err = env.run(dirC, "backup", "list")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^pfinni-\d{8}T\d{9}Z\.pfbak\s.*\strue\s`, out, "listed, encrypted")

	_, err = env.run(dirC, "backup", "extra")
	assert.ErrorContains(t, err, "unexpected argument")
	_, err = env.run(dirC, "restore")
	assert.ErrorContains(t, err, "want one backup file")
}

// Bad input is refused with a message naming what is wrong, before any
// database is touched where it can be.
func TestBackupCommandRefusals(t *testing.T) {
	env := newCLIEnv(t)
	dir := t.TempDir()
	cases := []struct {
		name string
		key  string
		args []string
		want string
	}{
		{"unknown flag", "", []string{"backup", "--bogus"}, "unknown flag"},
		{"list takes nothing", "", []string{"backup", "list", "now"}, "unexpected argument"},
		{"restore needs a file", "", []string{"restore", "--force"}, "want one backup file"},
		{"restore, key not a key", "hunter2", []string{"restore", "x.pfbak"}, "PFINNI_BACKUP_KEY"},
		{"backup, key not a key", "hunter2", []string{"backup"}, "PFINNI_BACKUP_KEY"},
		{"restore, no such file", "", []string{"restore", filepath.Join(dir, "none.pfbak")}, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PFINNI_BACKUP_KEY", tc.key)
			_, err := env.run(dir, tc.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// A restore beside a running server on the same data dir would swap the
// database under it: refused.
func TestRestoreRefusesARunningServer(t *testing.T) {
	env := newCLIEnv(t)
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "b.pfbak")
	_, err := env.run(dir, "backup", "--out", file)
	require.NoError(t, err)

	bin := buildBinary(t)
	port, err := freePort()
	require.NoError(t, err)
	wd, err := os.Getwd()
	require.NoError(t, err)
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PFINNI_DATA_DIR="+dir, "PFINNI_HTTP_ADDR=127.0.0.1:"+port,
		"PFINNI_ADMIN_PASSWORD=Serve-process-pass-1", "PFINNI_DBHOST_DIR="+filepath.Join(wd, "..", "..", "dbhost"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	k := &killable{cmd: cmd, out: &out}
	t.Cleanup(k.kill)
	require.Eventually(t, func() bool {
		res, err := http.Get("http://127.0.0.1:" + port + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, 2*time.Minute, 100*time.Millisecond, "server did not start: %s", &out)

	_, err = env.run(dir, "restore", "--force", file)
	require.ErrorIs(t, err, errServeRunning)
}
