package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/app"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// The container HEALTHCHECK: `pfinni healthcheck` fails while nothing
// listens, and succeeds against a real `serve` under a base path once its
// /readyz answers 200, reaching a wildcard listen address on loopback.
func TestHealthcheckAgainstRealServer(t *testing.T) {
	urlf, err := storetest.Engine() // finds dbhost/ from the package folder
	require.NoError(t, err)
	dir := t.TempDir()
	t.Chdir(dir)
	port, err := freePort()
	require.NoError(t, err)

	check := func() error {
		return run(context.Background(), []string{"healthcheck", "--http-addr", "0.0.0.0:" + port, "--base-path", "/pfinni", "--timeout", "2s"}, &bytes.Buffer{}, &bytes.Buffer{})
	}
	require.Error(t, check(), "nothing listens yet")

	st := storetest.Config(t)
	t.Setenv("PFINNI_DB_URL", urlf())
	t.Setenv("PFINNI_DB_NAMESPACE", st.Namespace)
	t.Setenv("PFINNI_DB_DATABASE", st.Database)
	t.Setenv("PFINNI_DB_USER", st.User)
	t.Setenv("PFINNI_DB_PASSWORD", st.Password)
	t.Setenv("PFINNI_DATA_DIR", dir)
	t.Setenv("PFINNI_DEMO_PATIENTS", "0")
	t.Setenv("PFINNI_PLUGINS_MANIFEST", filepath.Join(dir, "none.yaml"))
	t.Setenv("PFINNI_ADMIN_PASSWORD", "Healthcheck-pass-1")
	t.Setenv("PFINNI_LOG_LEVEL", "error")
	t.Setenv("PFINNI_HTTP_ADDR", "127.0.0.1:"+port)
	t.Setenv("PFINNI_BASE_PATH", "/pfinni")

	cfg, err := config.Load(nil, os.Environ())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, app.Options{Out: &bytes.Buffer{}, Bootstrap: true})
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
		_ = a.Close(context.Background())
	})

	require.Eventually(t, func() bool { return check() == nil }, 60*time.Second, 100*time.Millisecond, "healthcheck never passed")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"healthcheck"}, &out, &bytes.Buffer{}), "reads the same PFINNI_* settings as serve")
	assert.Contains(t, out.String(), "ready")

	// A wrong base path reaches the server but not /readyz: not ready.
	err = run(context.Background(), []string{"healthcheck", "--base-path", "/other"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, errNotReady), "%v", err)
}

func TestHealthcheckArguments(t *testing.T) {
	t.Chdir(t.TempDir())
	err := run(context.Background(), []string{"healthcheck", "--timeout", "soon"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	err = run(context.Background(), []string{"healthcheck", "extra"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Equal(t, "http://[::1]:9/readyz", readyzURL("[::]:9", ""))
	assert.Equal(t, "http://10.0.0.2:8080/p/readyz", readyzURL("10.0.0.2:8080", "/p"))
}
