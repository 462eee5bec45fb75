package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/bench"
	"github.com/pfinni/pfinni/core/config"
)

// The harness runs end to end on a small data set: a fresh server, seeded,
// every path driven over HTTP, and the report written.
func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	wd, _ := os.Getwd()
	t.Chdir(t.TempDir())
	cfg, err := config.Load(nil, []string{"PFINNI_DBHOST_DIR=" + filepath.Join(wd, "..", "..", "dbhost"), "PFINNI_PLUGINS_MANIFEST=" + filepath.Join(t.TempDir(), "none.yaml"), "PFINNI_LOG_LEVEL=error"})
	require.NoError(t, err)
	outPath := filepath.Join(t.TempDir(), "bench.json")
	var out bytes.Buffer
	err = runBench(context.Background(), cfg, []string{"--patients", "60", "--workers", "2", "--duration", "300ms", "--docs", "0", "--out", outPath}, &out)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "list status=active")
	b, err := os.ReadFile(outPath)
	require.NoError(t, err)
	var rep bench.Report
	require.NoError(t, json.Unmarshal(b, &rep))
	byName := map[string]bench.Result{}
	for _, r := range rep.Results {
		byName[r.Name] = r
	}
	for _, name := range []string{"login", "list (50, sorted)", "typo search", "get patient", "dashboard metrics", "audit query", "create", "update", "raw: get"} {
		r, ok := byName[name]
		require.True(t, ok, name)
		assert.Positive(t, r.Requests, name)
		assert.Positive(t, r.Throughput, name)
		assert.Zero(t, r.Errors, "%s: %s", name, r.FirstError)
	}
	require.NotEmpty(t, rep.Processes)
}
