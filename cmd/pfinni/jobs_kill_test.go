package main

import (
	"context"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// proofJobsEnv sets how many probe jobs the SIGKILL proof runs (5,000 by
// default; `make proof-jobs` runs the 10,000 without -race).
const proofJobsEnv = "PFINNI_PROOF_JOBS"

// The queue across two real `pfinni serve` processes on one database,
// with two workers each (four in all), one of them killed with SIGKILL
// ten times while they work through the probe jobs: every job succeeds,
// each job's side effect exists once, no two attempts of a job overlapped
// in time, and the queue's counts match. Jobs held by a killed process
// are taken again after their lease (30 s) expires.
func TestJobsSurviveSIGKILLOfAServeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills serve processes")
	}
	total := 5000
	if v := os.Getenv(proofJobsEnv); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, proofJobsEnv)
		total = n
	}
	bin := buildBinary(t)
	workers := "PFINNI_JOBS_WORKERS=2"
	began := time.Now()

	urlf, err := storetest.Engine()
	require.NoError(t, err)
	cfg := storetest.Config(t)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	n, err := jobs.EnqueueProbes(ctx, db, total)
	require.NoError(t, err)
	require.Equal(t, total, n)

	steady, _ := startServe(t, bin, urlf(), cfg.Database, workers)
	_ = steady
	adm := jobs.NewAdmin(db, nil)
	succeeded := func() int {
		_, n, err := adm.List(ctx, jobs.Filter{State: jobs.Succeeded, Kind: jobs.ProbeKind, Limit: 1})
		require.NoError(t, err)
		return n
	}
	kills := 0
	for kills < 10 && succeeded() < total {
		victim, _ := startServe(t, bin, urlf(), cfg.Database, workers)
		time.Sleep(700 * time.Millisecond)
		victim.kill()
		kills++
	}
	require.Eventually(t, func() bool { return succeeded() == total }, 4*time.Minute, 250*time.Millisecond,
		"every probe job succeeds after %d kills", kills)

	for _, st := range []jobs.State{jobs.Queued, jobs.Running, jobs.Failed, jobs.Dead} {
		_, n, err := adm.List(ctx, jobs.Filter{State: st, Kind: jobs.ProbeKind, Limit: 1})
		require.NoError(t, err)
		assert.Zero(t, n, "no probe job left %s", st)
	}
	effects, err := store.Query[[]struct {
		N int `json:"n"`
	}](ctx, db, "SELECT count() AS n FROM job_probe GROUP ALL", nil)
	require.NoError(t, err)
	require.Len(t, effects, 1)
	assert.Equal(t, total, effects[0].N, "each side effect exists once")

	type run struct {
		Job      string     `json:"job"`
		Attempt  int        `json:"attempt"`
		Started  time.Time  `json:"started_at"`
		Ended    *time.Time `json:"ended_at"`
		Instance string     `json:"instance"`
	}
	runs, err := store.Query[[]run](ctx, db, "SELECT job, attempt, started_at, ended_at, instance FROM job_probe_run", nil)
	require.NoError(t, err)
	byJob := map[string][]run{}
	for _, r := range runs {
		byJob[r.Job] = append(byJob[r.Job], r)
	}
	rerun, overlaps := 0, 0
	for _, rs := range byJob {
		if len(rs) < 2 {
			continue
		}
		rerun++
		sort.Slice(rs, func(i, j int) bool { return rs[i].Attempt < rs[j].Attempt })
		for i := 1; i < len(rs); i++ {
			// An attempt cut short by SIGKILL has no end; its process
			// died before the lease it held expired.
			if prev := rs[i-1]; prev.Ended != nil && rs[i].Started.Before(*prev.Ended) {
				overlaps++
			}
		}
	}
	assert.Zero(t, overlaps, "no two attempts of a job ran at the same time")
	assert.Len(t, byJob, total)
	t.Logf("%d probe jobs, 4 workers in 2 processes, %d SIGKILLs, %d jobs ran more than once (cut short by a kill); all done in %s",
		total, kills, rerun, time.Since(began).Round(time.Second))
}
