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
	// A path may complete no request in its 300 ms on a loaded machine (a
	// request still in flight at the end is cut off, not counted), so
	// only the run as a whole must have answered.
	var answered int64
	for _, name := range []string{"login", "list (50, sorted)", "typo search", "get patient", "dashboard metrics", "audit query", "audit query record", "create", "update", "raw: get"} {
		r, ok := byName[name]
		require.True(t, ok, name)
		answered += r.Requests
		assert.Zero(t, r.Errors, "%s: %s", name, r.FirstError)
	}
	assert.Positive(t, answered)
	require.NotEmpty(t, rep.Processes)
	assert.NotEmpty(t, rep.Notes["loadavg_start"], "the load beside the run is recorded")
}

// With --peer the same patients go to PocketBase and the comparison
// rows are reported (skipped without the binary `make pocketbase` builds).
func TestBenchPeerSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	wd, _ := os.Getwd()
	peer := filepath.Join(wd, "..", "..", ".cache", "bin", "base")
	if _, err := os.Stat(peer); err != nil {
		t.Skipf("PocketBase binary absent (make pocketbase builds it): %v", err)
	}
	t.Chdir(t.TempDir())
	cfg, err := config.Load(nil, []string{"PFINNI_DBHOST_DIR=" + filepath.Join(wd, "..", "..", "dbhost"), "PFINNI_PLUGINS_MANIFEST=" + filepath.Join(t.TempDir(), "none.yaml"), "PFINNI_LOG_LEVEL=error"})
	require.NoError(t, err)
	outPath := filepath.Join(t.TempDir(), "bench.json")
	var out bytes.Buffer
	err = runBench(context.Background(), cfg, []string{"--patients", "40", "--workers", "2", "--duration", "300ms", "--docs", "0",
		"--peer", peer, "--peer-only", "--out", outPath}, &out)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "seeded PocketBase with the same 40 patients")
	assert.Contains(t, out.String(), "side by side, same run")
	b, err := os.ReadFile(outPath)
	require.NoError(t, err)
	var rep bench.Report
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Len(t, rep.Peer, 5)
	var answered int64
	for _, c := range rep.Peer {
		answered += c.Peer.Requests + c.Pfinni.Requests
		assert.Zero(t, c.Peer.Errors, "%s: %s", c.Path, c.Peer.FirstError)
		assert.Zero(t, c.Pfinni.Errors, "%s: %s", c.Path, c.Pfinni.FirstError)
	}
	assert.Positive(t, answered)
	names := map[string]bool{}
	for _, p := range rep.Processes {
		names[p.Name] = true
	}
	assert.True(t, names["pocketbase"], "the peer's memory and CPU are sampled")
}
