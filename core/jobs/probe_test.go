package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// The probe records each attempt and applies its effect once; the probe
// schedule enqueues one tick job per tick across two instances, each
// running the probe.
func TestProbeAndProbeSchedule(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	var qs []*jobs.Queue
	for _, name := range []string{"a", "b"} {
		q := jobs.New(db, fast(name))
		require.NoError(t, jobs.RegisterProbe(q))
		require.NoError(t, jobs.RegisterProbeCron(q, "@every 1s"))
		qs = append(qs, q)
	}
	assert.NotEqual(t, qs[0].Instance(), qs[1].Instance())
	n, err := jobs.EnqueueProbes(ctx, db, 30)
	require.NoError(t, err)
	require.Equal(t, 30, n)
	for _, q := range qs {
		start(t, q)
	}
	adm := jobs.NewAdmin(db, nil)
	counted := func(kind string) int {
		_, n, err := adm.List(ctx, jobs.Filter{Kind: kind, State: jobs.Succeeded, Limit: 1})
		require.NoError(t, err)
		return n
	}
	require.Eventually(t, func() bool { return counted(jobs.ProbeKind) == 30 && counted(jobs.ProbeTickKind) >= 3 },
		2*time.Minute, 50*time.Millisecond)
	for _, table := range []string{"job_probe", "job_probe_run"} {
		got, err := store.Query[int](ctx, db, "RETURN count(SELECT id FROM type::table($t))", map[string]any{"t": table})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, got, 33, table)
	}
	ticks, _, err := adm.List(ctx, jobs.Filter{Kind: jobs.ProbeTickKind, Limit: 500})
	require.NoError(t, err)
	seen := map[time.Time]bool{}
	for _, j := range ticks {
		var a struct {
			Cron jobs.CronArgs `json:"cron"`
		}
		require.NoError(t, j.Bind(&a))
		assert.False(t, seen[a.Cron.Tick], "tick %s enqueued twice", a.Cron.Tick)
		seen[a.Cron.Tick] = true
	}
}

// Jobs claimed ahead of the free workers (Batch > Workers) and not yet
// started when the queue stops are given back at once, their attempt
// not counted.
func TestStopGivesBackJobsClaimedAhead(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	o := fast("ahead")
	o.Workers, o.Batch = 1, 8
	o.DrainTimeout = 200 * time.Millisecond
	q := jobs.New(db, o)
	started := make(chan string, 8)
	require.NoError(t, q.Register("test.ahead", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		started <- j.ID
		<-ctx.Done()
		return ctx.Err()
	})))
	for range 5 {
		_, err := jobs.Enqueue(ctx, db, "test.ahead", nil, jobs.EnqueueOptions{}, nil)
		require.NoError(t, err)
	}
	require.NoError(t, q.Start(ctx))
	first := <-started
	adm := jobs.NewAdmin(db, nil)
	require.Eventually(t, func() bool {
		_, n, err := adm.List(ctx, jobs.Filter{State: jobs.Running, Limit: 1})
		return err == nil && n == 5
	}, time.Minute, 20*time.Millisecond, "one claim took all five for one worker")
	require.NoError(t, q.Stop(ctx))
	list, _, err := adm.List(ctx, jobs.Filter{Kind: "test.ahead"})
	require.NoError(t, err)
	require.Len(t, list, 5)
	for _, j := range list {
		assert.Equal(t, jobs.Queued, j.State, j.ID)
		assert.Zero(t, j.Attempts, "%s: the attempt is not counted", j.ID)
	}
	assert.Len(t, started, 0, "only %s was started", first)
}
