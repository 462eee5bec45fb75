package app

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/store"
)

func testConfig(t *testing.T, env ...string) *config.Config {
	t.Helper()
	env = append([]string{"PFINNI_DATA_DIR=" + t.TempDir(), "PFINNI_DEMO_PATIENTS=0", "PFINNI_LOG_LEVEL=error",
		"PFINNI_PLUGINS_MANIFEST=" + t.TempDir() + "/none.yaml"}, env...)
	cfg, err := config.Load(nil, env)
	require.NoError(t, err)
	return cfg
}

// A restart keeps all data: the embedded engine stores it under data_dir.
func TestEmbeddedRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	a, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}})
	require.NoError(t, err)
	require.True(t, a.DB.Ready())
	require.NotNil(t, a.Server)
	require.NoError(t, a.DB.Exec(ctx, "CREATE provider CONTENT {name: 'Dr. Persist'}", nil))
	pid := a.Engine.PID()
	require.NoError(t, a.Close(ctx))
	assert.Error(t, exec.Command("kill", "-0", strconv.Itoa(pid)).Run(), "engine stopped with the app")

	b, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}, NoHTTP: true})
	require.NoError(t, err)
	defer b.Close(ctx)
	assert.Nil(t, b.Server)
	names, err := store.Query[[]struct {
		Name string `json:"name"`
	}](ctx, b.DB, "SELECT name FROM provider", nil)
	require.NoError(t, err)
	require.Len(t, names, 1)
	assert.Equal(t, "Dr. Persist", names[0].Name)
}

func TestServeAnswersAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := testConfig(t, "PFINNI_HTTP_ADDR=127.0.0.1:0")
	a, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}})
	require.NoError(t, err)
	defer a.Close(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestExternalDatabaseUnreachable(t *testing.T) {
	cfg := testConfig(t, "PFINNI_DB_URL=ws://127.0.0.1:1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "database")
}

func TestServeWithoutHTTP(t *testing.T) {
	a := &App{}
	assert.Error(t, a.Serve(context.Background()))
}

// A CLI command run beside a serving core joins its embedded engine
// instead of failing on the database lock.
func TestSecondProcessJoinsRunningEngine(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	a, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}, NoHTTP: true})
	require.NoError(t, err)
	defer a.Close(ctx)
	require.NoError(t, a.DB.Exec(ctx, "CREATE provider CONTENT {name: 'Dr. Shared'}", nil))

	b, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}, NoHTTP: true})
	require.NoError(t, err)
	assert.Nil(t, b.Engine, "joined, did not start a second engine")
	names, err := store.Query[[]string](ctx, b.DB, "SELECT VALUE name FROM provider", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"Dr. Shared"}, names)
	require.NoError(t, b.Close(ctx))
	require.True(t, a.DB.Ready(), "the first core keeps its engine")
}
