package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// fast are queue options for tests: short leases and polls, tiny
// backoff, so that rescue and retries happen within a test's time.
func fast(name string) jobs.Options {
	return jobs.Options{Instance: name, Workers: 2, Lease: 2 * time.Second, Heartbeat: 400 * time.Millisecond,
		PollInterval: 50 * time.Millisecond, Backoff: jobs.ExponentialBackoff(20*time.Millisecond, 200*time.Millisecond),
		DrainTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)}
}

func start(t *testing.T, q *jobs.Queue) {
	t.Helper()
	require.NoError(t, q.Start(context.Background()))
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
}

func waitState(t *testing.T, adm *jobs.Admin, id string, want jobs.State) jobs.Job {
	t.Helper()
	var j jobs.Job
	require.Eventually(t, func() bool {
		var err error
		j, err = adm.Get(context.Background(), id)
		return err == nil && j.State == want
	}, 30*time.Second, 20*time.Millisecond, "job %s never reached %s (last: %+v)", id, want, j)
	return j
}

type greet struct {
	PatientID string `json:"patient_id"`
}

// A job enqueued with arguments runs once with those arguments and its
// attempt number, and ends succeeded.
func TestEnqueuedJobRunsWithItsArguments(t *testing.T) {
	db := storetest.New(t)
	q := jobs.New(db, fast("a"))
	got := make(chan jobs.Job, 1)
	require.NoError(t, q.Register("test.greet", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		got <- j
		return nil
	})))
	start(t, q)
	j, err := q.Enqueue(context.Background(), "test.greet", greet{PatientID: "p_123"}, jobs.EnqueueOptions{})
	require.NoError(t, err)
	assert.Equal(t, jobs.Queued, j.State)
	assert.Equal(t, jobs.DefaultMaxAttempts, j.MaxAttempts)

	var ran jobs.Job
	select {
	case ran = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the job never ran")
	}
	var args greet
	require.NoError(t, ran.Bind(&args))
	assert.Equal(t, "p_123", args.PatientID)
	assert.Equal(t, 1, ran.Attempt())
	done := waitState(t, jobs.NewAdmin(db, nil), j.ID, jobs.Succeeded)
	assert.Equal(t, 1, done.Attempts)
	assert.NotNil(t, done.FinishedAt)
}

// A second enqueue with the same unique key while the first job is
// queued returns the first job; once it has succeeded the key is free.
func TestUniqueKeyReturnsTheLiveJob(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	q := jobs.New(db, fast("a"))
	opt := jobs.EnqueueOptions{UniqueKey: "reminder:patient/p_1:2026-12-03"}
	first, err := q.Enqueue(ctx, "test.unique", nil, opt)
	require.NoError(t, err)

	// Many concurrent enqueues of the same key: all get the one job.
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := q.Enqueue(ctx, "test.unique", nil, opt)
			if assert.NoError(t, err) {
				ids[i] = j.ID
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, first.ID, id)
	}
	_, total, err := jobs.NewAdmin(db, nil).List(ctx, jobs.Filter{Kind: "test.unique"})
	require.NoError(t, err)
	assert.Equal(t, 1, total)

	require.NoError(t, q.Register("test.unique", jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil })))
	start(t, q)
	waitState(t, jobs.NewAdmin(db, nil), first.ID, jobs.Succeeded)
	again, err := q.Enqueue(ctx, "test.unique", nil, opt)
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, again.ID, "a finished job no longer holds its key")
}

// Concurrent first enqueues of one key (nobody holds it yet) still
// produce exactly one job.
func TestUniqueKeyUnderConcurrentFirstInserts(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make([]string, 30)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := jobs.Enqueue(ctx, db, "test.unique", nil, jobs.EnqueueOptions{UniqueKey: "k1"}, nil)
			if assert.NoError(t, err) {
				ids[i] = j.ID
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
	_, total, err := jobs.NewAdmin(db, nil).List(ctx, jobs.Filter{Kind: "test.unique"})
	require.NoError(t, err)
	assert.Equal(t, 1, total)
}

// A failing job is retried with backoff, each attempt numbered, then is
// dead with its last error; an admin retry runs it again from attempt 1.
func TestFailingJobRetriesThenDiesThenAdminRetry(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	q := jobs.New(db, fast("a"))
	var mu sync.Mutex
	var attempts []int
	var heal atomic.Bool
	require.NoError(t, q.Register("test.flaky", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		mu.Lock()
		attempts = append(attempts, j.Attempt())
		mu.Unlock()
		if heal.Load() {
			return nil
		}
		return fmt.Errorf("upstream refused job for patient/%s (attempt %d)", "p_9", j.Attempt())
	})))
	start(t, q)
	j, err := q.Enqueue(ctx, "test.flaky", nil, jobs.EnqueueOptions{MaxAttempts: 3})
	require.NoError(t, err)
	adm := jobs.NewAdmin(db, nil)
	dead := waitState(t, adm, j.ID, jobs.Dead)
	assert.Equal(t, 3, dead.Attempts)
	assert.Equal(t, "upstream refused job for patient/p_9 (attempt 3)", dead.LastError)
	mu.Lock()
	assert.Equal(t, []int{1, 2, 3}, attempts)
	mu.Unlock()

	_, err = adm.Retry(ctx, "nope")
	assert.ErrorIs(t, err, fault.ErrNotFound)

	heal.Store(true)
	again, err := adm.Retry(ctx, j.ID)
	require.NoError(t, err)
	assert.Equal(t, jobs.Queued, again.State)
	assert.Equal(t, 0, again.Attempts)
	ok := waitState(t, adm, j.ID, jobs.Succeeded)
	assert.Equal(t, 1, ok.Attempts)

	_, err = adm.Retry(ctx, j.ID)
	assert.ErrorIs(t, err, jobs.ErrNotDead)
	assert.ErrorIs(t, err, fault.ErrConflict)
}

// While a job waits for its retry it is "failed" with the error and a
// run_at in the future.
func TestFailedJobWaitsForItsBackoff(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	opt := fast("a")
	opt.Backoff = func(int) time.Duration { return time.Hour }
	q := jobs.New(db, opt)
	require.NoError(t, q.Register("test.fail", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
		return errors.New("boom")
	})))
	start(t, q)
	j, err := q.Enqueue(ctx, "test.fail", nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	failed := waitState(t, jobs.NewAdmin(db, nil), j.ID, jobs.Failed)
	assert.Equal(t, "boom", failed.LastError)
	assert.Equal(t, 1, failed.Attempts)
	assert.True(t, failed.RunAt.After(time.Now().Add(50*time.Minute)), "next attempt in about an hour, got %s", failed.RunAt)
}

// A Permanent error, or a panic's error after the last attempt, makes
// the job dead at once.
func TestPermanentErrorAndPanic(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	q := jobs.New(db, fast("a"))
	require.NoError(t, q.Register("test.perm", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
		return jobs.Permanent(errors.New("record patient/p_404 no longer exists"))
	})))
	require.NoError(t, q.Register("test.panic", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
		panic("bad state")
	})))
	start(t, q)
	p, err := q.Enqueue(ctx, "test.perm", nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	pa, err := q.Enqueue(ctx, "test.panic", nil, jobs.EnqueueOptions{MaxAttempts: 1})
	require.NoError(t, err)
	adm := jobs.NewAdmin(db, nil)
	dp := waitState(t, adm, p.ID, jobs.Dead)
	assert.Equal(t, 1, dp.Attempts)
	assert.Equal(t, "record patient/p_404 no longer exists", dp.LastError)
	dpa := waitState(t, adm, pa.ID, jobs.Dead)
	assert.Contains(t, dpa.LastError, "handler panicked: bad state")
}

// Jobs run no earlier than run_at, and higher priority first.
func TestRunAtAndPriority(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	opt := fast("a")
	opt.Workers, opt.Batch = 1, 1
	q := jobs.New(db, opt)
	var mu sync.Mutex
	var order []string
	require.NoError(t, q.Register("test.order", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		var a struct{ Name string }
		_ = j.Bind(&a)
		mu.Lock()
		order = append(order, a.Name)
		mu.Unlock()
		return nil
	})))
	later, err := q.Enqueue(ctx, "test.order", map[string]string{"name": "later"}, jobs.EnqueueOptions{RunAt: time.Now().Add(time.Hour), Priority: -9})
	require.NoError(t, err)
	for i, p := range []int{0, 5, 1} {
		_, err := q.Enqueue(ctx, "test.order", map[string]string{"name": fmt.Sprint("p", p)}, jobs.EnqueueOptions{Priority: p})
		require.NoError(t, err, i)
	}
	start(t, q)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 3 }, 30*time.Second, 20*time.Millisecond)
	mu.Lock()
	assert.Equal(t, []string{"p0", "p1", "p5"}, order)
	mu.Unlock()
	j, err := jobs.NewAdmin(db, nil).Get(ctx, later.ID)
	require.NoError(t, err)
	assert.Equal(t, jobs.Queued, j.State, "a job is not run before its run_at")
}

// An instance claims only the kinds it has handlers for.
func TestInstanceClaimsOnlyItsKinds(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	q := jobs.New(db, fast("a"))
	require.NoError(t, q.Register("test.mine", jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil })))
	start(t, q)
	other, err := q.Enqueue(ctx, "test.other", nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	mine, err := q.Enqueue(ctx, "test.mine", nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	adm := jobs.NewAdmin(db, nil)
	waitState(t, adm, mine.ID, jobs.Succeeded)
	j, err := adm.Get(ctx, other.ID)
	require.NoError(t, err)
	assert.Equal(t, jobs.Queued, j.State)
}

// List filters by state and kind and counts the matches; bad filters are
// refused as invalid input.
func TestListFilters(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		_, err := jobs.Enqueue(ctx, db, "test.a", nil, jobs.EnqueueOptions{}, nil)
		require.NoError(t, err)
	}
	_, err := jobs.Enqueue(ctx, db, "test.b", nil, jobs.EnqueueOptions{}, nil)
	require.NoError(t, err)
	adm := jobs.NewAdmin(db, nil)
	items, total, err := adm.List(ctx, jobs.Filter{Kind: "test.a", Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, 3, total)
	assert.Len(t, items, 2)
	_, total, err = adm.List(ctx, jobs.Filter{State: jobs.Queued})
	require.NoError(t, err)
	assert.Equal(t, 4, total)
	_, total, err = adm.List(ctx, jobs.Filter{State: jobs.Dead})
	require.NoError(t, err)
	assert.Equal(t, 0, total)
	_, _, err = adm.List(ctx, jobs.Filter{State: "sleeping"})
	assert.ErrorIs(t, err, fault.ErrInvalid)
	_, err = jobs.Enqueue(ctx, db, "Bad Kind", nil, jobs.EnqueueOptions{}, nil)
	assert.ErrorIs(t, err, fault.ErrInvalid)
}

var _ = store.ErrConflict
