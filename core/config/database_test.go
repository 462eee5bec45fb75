package config

import (
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// M8: plain ws:// to a database on another host would carry PHI
// unencrypted; it is refused unless the operator opts in explicitly.
func TestPlainWebSocketToARemoteDatabaseIsRefused(t *testing.T) {
	chdir(t)
	for _, tc := range []struct {
		name string
		env  []string
		ok   bool
	}{
		{"wss to a remote host", []string{"PFINNI_DB_URL=wss://db.example.org:8000"}, true},
		{"ws to 127.0.0.1", []string{"PFINNI_DB_URL=ws://127.0.0.1:8000"}, true},
		{"ws to another loopback address", []string{"PFINNI_DB_URL=ws://127.0.0.2:8000"}, true},
		{"ws to localhost", []string{"PFINNI_DB_URL=ws://localhost:8000"}, true},
		{"ws to ::1", []string{"PFINNI_DB_URL=ws://[::1]:8000"}, true},
		{"ws to a remote host", []string{"PFINNI_DB_URL=ws://surrealdb:8000"}, false},
		{"ws to a private address", []string{"PFINNI_DB_URL=ws://10.0.0.5:8000"}, false},
		{"ws to a host named like loopback", []string{"PFINNI_DB_URL=ws://localhost.evil.example:8000"}, false},
		{"ws to a remote host, override set", []string{"PFINNI_DB_URL=ws://surrealdb:8000", "PFINNI_DB_ALLOW_INSECURE=true"}, true},
		{"override set to false", []string{"PFINNI_DB_URL=ws://surrealdb:8000", "PFINNI_DB_ALLOW_INSECURE=false"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(nil, tc.env)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "PFINNI_DB_URL")
			assert.Contains(t, err.Error(), "PFINNI_DB_ALLOW_INSECURE", "the message names the way out")
		})
	}

	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--db-url", "ws://surrealdb:8000", "--db-allow-insecure", "true"}))
	c, err := Load(fs, nil)
	require.NoError(t, err, "the flag works too")
	assert.True(t, c.DBAllowInsecure)
}

func TestAuditFilesDefaultToTheDataDir(t *testing.T) {
	chdir(t)
	c, err := Load(nil, []string{"PFINNI_DATA_DIR=/srv/pfinni"})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("/srv/pfinni", "audit.key"), c.AuditKeyPath())
	assert.Equal(t, filepath.Join("/srv/pfinni", "audit.head"), c.AuditHeadPath())

	c, err = Load(nil, []string{"PFINNI_AUDIT_KEY_FILE=/run/secrets/audit.key", "PFINNI_AUDIT_HEAD_FILE=/var/lib/anchor/head"})
	require.NoError(t, err)
	assert.Equal(t, "/run/secrets/audit.key", c.AuditKeyPath())
	assert.Equal(t, "/var/lib/anchor/head", c.AuditHeadPath())
}

func TestAuthKeyFileDefaultsToTheDataDir(t *testing.T) {
	chdir(t)
	c, err := Load(nil, []string{"PFINNI_DATA_DIR=/srv/pfinni"})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("/srv/pfinni", "auth-secret.key"), c.AuthKeyPath())

	c, err = Load(nil, []string{"PFINNI_AUTH_KEY_FILE=/run/secrets/auth.key"})
	require.NoError(t, err)
	assert.Equal(t, "/run/secrets/auth.key", c.AuthKeyPath())
}

func TestDatabaseAuthLevel(t *testing.T) {
	chdir(t)
	c, err := Load(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "root", c.DBAuthLevel, "the default keeps existing root-user setups working")
	c, err = Load(nil, []string{"PFINNI_DB_AUTH_LEVEL=database"})
	require.NoError(t, err)
	assert.Equal(t, "database", c.DBAuthLevel)
	_, err = Load(nil, []string{"PFINNI_DB_AUTH_LEVEL=table"})
	assert.ErrorContains(t, err, "PFINNI_DB_AUTH_LEVEL")
}
