package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/auth"
)

// Low 9: without a terminal (a service, a container) the generated
// admin password must not reach the output, which ends up in logs; it is
// kept in a file only this user can read, and the output says where.
// Low 11: the lockout key is made at the first start, outside the
// database, readable by this user only.
func TestBootstrapKeepsTheAdminPasswordOutOfLogs(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, "PFINNI_ADMIN_EMAIL=boss@example.org")
	var out bytes.Buffer
	a, err := Open(ctx, cfg, Options{Out: &out, NoHTTP: true, Bootstrap: true})
	require.NoError(t, err)
	defer a.Close(ctx)

	path := filepath.Join(cfg.DataDir, "admin-password.txt")
	assert.Contains(t, out.String(), "created admin boss@example.org")
	assert.Contains(t, out.String(), "admin password written to "+path)
	assert.NotContains(t, out.String(), "shown once")

	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	pw := strings.TrimSpace(string(b))
	require.NotEmpty(t, pw)
	assert.NotContains(t, out.String(), pw, "the password is not in the output")
	_, err = a.Auth.Login(ctx, "boss@example.org", pw)
	require.NoError(t, err, "the kept password signs in")

	st, err = os.Stat(filepath.Join(cfg.DataDir, auth.LockoutKeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}
