package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/store"
)

// H1: the file a CLI command uses to join a running core's engine holds
// the engine's root credential, so only the owner may read it; the
// command beside the server still works, and a file others could read
// (or tamper with) is not trusted.
func TestEngineAddressFileIsPrivateAndJoinable(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	a, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}, NoHTTP: true})
	require.NoError(t, err)
	defer a.Close(ctx)
	require.NoError(t, a.DB.Exec(ctx, "CREATE provider CONTENT {name: 'Dr. Private'}", nil))

	path := filepath.Join(cfg.DataDir, engineAddrFile)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	ea, err := readEngineAddr(path)
	require.NoError(t, err)
	user, pass := a.Engine.Credentials()
	assert.Equal(t, engineAddr{URL: a.Engine.URL(), User: user, Pass: pass}, ea)

	// A CLI command beside the server joins with the credential.
	b, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}, NoHTTP: true})
	require.NoError(t, err)
	assert.Nil(t, b.Engine, "joined, did not start a second engine")
	names, err := store.Query[[]string](ctx, b.DB, "SELECT VALUE name FROM provider", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"Dr. Private"}, names)
	require.NoError(t, b.Close(ctx))

	// Opened up to others, the file is refused (and the command then
	// cannot start a second engine on the locked folder).
	require.NoError(t, os.Chmod(path, 0o644))
	_, err = readEngineAddr(path)
	assert.ErrorContains(t, err, "open to other users")

	// Written again, it is 0600 even where the old file was wider.
	require.NoError(t, writeEngineAddr(path, ea))
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestEngineAddressFileRejectsIncompleteContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), engineAddrFile)
	for name, body := range map[string]string{
		"old plain URL format": "ws://127.0.0.1:1234\n",
		"no password":          `{"url":"ws://127.0.0.1:1","user":"u"}`,
	} {
		require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
		_, err := readEngineAddr(path)
		assert.Error(t, err, name)
	}
}

// M7 wiring: the app keys the audit chain with a key file kept outside
// the database (created 0600 in the data dir on first start) and keeps
// the chain's head beside it.
func TestAppKeysTheAuditChain(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	a, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}, NoHTTP: true})
	require.NoError(t, err)
	require.NoError(t, a.Audit.Record(actor.System(ctx), audit.Event{Action: "test.event", Resource: "test", Outcome: audit.OutcomeSuccess}))
	require.NoError(t, a.Close(ctx))

	fi, err := os.Stat(cfg.AuditKeyPath())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	keys, err := audit.LoadKeyring(cfg.AuditKeyPath())
	require.NoError(t, err)

	b, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}, NoHTTP: true})
	require.NoError(t, err)
	defer b.Close(ctx)
	ids, err := store.Query[[]string](ctx, b.DB, "SELECT VALUE key_id FROM audit", nil)
	require.NoError(t, err)
	require.NotEmpty(t, ids)
	for _, id := range ids {
		assert.Equal(t, keys.ActiveID(), id)
	}
	head, ok, err := audit.ReadHeadFile(cfg.AuditHeadPath())
	require.NoError(t, err)
	require.True(t, ok, "the head was kept outside the database")
	assert.Equal(t, int64(len(ids)), head.Seq)
	rep, err := b.Audit.Verify(actor.System(ctx))
	require.NoError(t, err)
	assert.True(t, rep.OK, rep.String())
	require.NotNil(t, rep.Anchor)
}
