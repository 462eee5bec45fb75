package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// ledger is what the proof handlers share across "instances": which
// jobs are running right now (to catch two runs at once) and how often
// each ran.
type ledger struct {
	mu       sync.Mutex
	inFlight map[string]string // job id → the instance running it
	dead     map[string]bool   // instances "crashed" (see crash)
	overlaps []string
	runs     map[string]int
}

func newLedger() *ledger {
	return &ledger{inFlight: map[string]string{}, dead: map[string]bool{}, runs: map[string]int{}}
}

// crash records that instance died: a crash is simulated by cancelling
// the instance's context, which leaves its handler goroutines running
// until they notice (a database call under -race on a loaded machine can
// take longer than the lease). A real crash takes them with the process
// (the SIGKILL proofs in cmd/pfinni), so their runs end here.
func (l *ledger) crash(instance string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dead[instance] = true
	for id, who := range l.inFlight {
		if who == instance {
			delete(l.inFlight, id)
		}
	}
}

// handler applies the job's side effect idempotently — a record keyed
// by the job id, created once — after a short pause during which the
// instance may be killed.
func (l *ledger) handler(db *store.DB, instance string) jobs.Handler {
	return jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		l.mu.Lock()
		if l.dead[instance] { // a dead process starts nothing
			l.mu.Unlock()
			return context.Canceled
		}
		if _, ok := l.inFlight[j.ID]; ok {
			l.overlaps = append(l.overlaps, j.ID)
		}
		l.inFlight[j.ID] = instance
		l.runs[j.ID]++
		l.mu.Unlock()
		defer func() {
			l.mu.Lock()
			if l.inFlight[j.ID] == instance {
				delete(l.inFlight, j.ID)
			}
			l.mu.Unlock()
		}()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		err := db.Exec(ctx, `INSERT IGNORE INTO effect {id: $id, at: time::now()}`, map[string]any{"id": store.RecordID("effect", j.ID)})
		if err != nil {
			return fmt.Errorf("apply effect: %w", err)
		}
		return ctx.Err()
	})
}

// 2,000 jobs across two queue instances with two workers each, one of
// them stopped abruptly (cancelled without releasing its leases, like a
// crash) and restarted again and again: every job succeeds, no job runs
// twice at the same time, and each side effect is applied exactly once.
func TestJobsSurviveRepeatedCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 2,000 jobs")
	}
	const total = 2000
	db := storetest.New(t)
	ctx := context.Background()
	require.NoError(t, db.Exec(ctx, "DEFINE TABLE effect SCHEMALESS", nil))
	l := newLedger()
	opt := func(name string) jobs.Options {
		o := fast(name)
		o.Lease, o.Heartbeat = 1500*time.Millisecond, 300*time.Millisecond
		return o
	}
	for i := 0; i < total; i += 500 {
		err := db.Exec(ctx, `FOR $i IN $from..$to { CREATE job CONTENT {kind: 'proof.effect', args: '{}', state: 'queued',
			max_attempts: 100, run_at: time::now(), created_at: time::now(), updated_at: time::now()} }`,
			map[string]any{"from": i, "to": min(i+500, total)})
		require.NoError(t, err)
	}

	steady := jobs.New(db, opt("steady"))
	require.NoError(t, steady.Register("proof.effect", l.handler(db, "steady")))
	start(t, steady)

	crashes := 0
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		n := count(t, db, "succeeded")
		if n == total {
			break
		}
		name := fmt.Sprint("victim-", crashes)
		victim := jobs.New(db, opt(name))
		require.NoError(t, victim.Register("proof.effect", l.handler(db, name)))
		vctx, crash := context.WithCancel(ctx)
		require.NoError(t, victim.Start(vctx))
		time.Sleep(700 * time.Millisecond)
		l.crash(name)
		crash() // no release: its leases must expire
		crashes++
	}
	require.Equal(t, total, count(t, db, "succeeded"), "every job succeeds (after %d crashes)", crashes)
	assert.GreaterOrEqual(t, crashes, 3, "the victim instance was crashed several times")
	l.mu.Lock()
	defer l.mu.Unlock()
	assert.Empty(t, l.overlaps, "no job ran twice at the same time")
	assert.Len(t, l.runs, total)
	reruns := 0
	for _, n := range l.runs {
		reruns += n - 1
	}
	effects, err := store.Query[[]struct {
		N int `json:"n"`
	}](ctx, db, "SELECT count() AS n FROM effect GROUP ALL", nil)
	require.NoError(t, err)
	require.Len(t, effects, 1)
	assert.Equal(t, total, effects[0].N, "each side effect applied once")
	t.Logf("%d jobs, %d crashes, %d attempts re-run after a crash", total, crashes, reruns)
}

func count(t *testing.T, db *store.DB, state string) int {
	t.Helper()
	_, n, err := jobs.NewAdmin(db, nil).List(context.Background(), jobs.Filter{State: jobs.State(state), Limit: 1})
	require.NoError(t, err)
	return n
}

// A cron schedule every second on two instances: each tick is enqueued
// once, not twice.
func TestCronEnqueuesEachTickOnceAcrossInstances(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	var runs atomic.Int64
	var mu sync.Mutex
	ticks := map[time.Time]int{}
	for _, name := range []string{"a", "b"} {
		q := jobs.New(db, fast(name))
		require.NoError(t, q.Schedule("test-every-second", "* * * * * *", "test.tick", map[string]any{"report": "daily"}))
		require.NoError(t, q.Register("test.tick", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
			var a struct {
				Report string        `json:"report"`
				Cron   jobs.CronArgs `json:"cron"`
			}
			if err := j.Bind(&a); err != nil {
				return err
			}
			if a.Report != "daily" || a.Cron.Schedule != "test-every-second" {
				return errors.New("wrong arguments")
			}
			mu.Lock()
			ticks[a.Cron.Tick]++
			mu.Unlock()
			runs.Add(1)
			return nil
		})))
		start(t, q)
	}
	require.Eventually(t, func() bool { return runs.Load() >= 10 }, 60*time.Second, 50*time.Millisecond)
	// Every stored job of the schedule is a distinct tick.
	items, total, err := jobs.NewAdmin(db, nil).List(ctx, jobs.Filter{Kind: "test.tick", Limit: 500})
	require.NoError(t, err)
	seen := map[time.Time]bool{}
	for _, j := range items {
		var a struct {
			Cron jobs.CronArgs `json:"cron"`
		}
		require.NoError(t, j.Bind(&a))
		assert.False(t, seen[a.Cron.Tick], "tick %s enqueued twice", a.Cron.Tick)
		seen[a.Cron.Tick] = true
	}
	assert.Equal(t, total, len(seen))
	assert.GreaterOrEqual(t, total, 10)
}
