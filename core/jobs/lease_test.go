package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// A job that runs for several lease lengths keeps its lease through
// heartbeats: the second instance never takes it over meanwhile.
func TestHeartbeatKeepsALongJob(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	var runs atomic.Int32
	release := make(chan struct{})
	h := jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		runs.Add(1)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	a, b := jobs.New(db, fast("a")), jobs.New(db, fast("b"))
	require.NoError(t, a.Register("test.long", h))
	require.NoError(t, b.Register("test.long", h))
	start(t, a)
	j, err := a.Enqueue(ctx, "test.long", nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	adm := jobs.NewAdmin(db, nil)
	waitState(t, adm, j.ID, jobs.Running)
	start(t, b)
	// Let three lease lengths (2s each) pass while it runs.
	time.Sleep(6 * time.Second)
	close(release)
	done := waitState(t, adm, j.ID, jobs.Succeeded)
	assert.Equal(t, int32(1), runs.Load(), "the running job was never taken over")
	assert.Equal(t, 1, done.Attempts)
}

// An instance that dies (its context cancelled, leases not released)
// leaves its job to another instance once the lease expires; the new
// attempt is numbered 2 and its outcome is recorded.
func TestExpiredLeaseIsTakenByAnotherInstance(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	started := make(chan int, 4)
	h := jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		started <- j.Attempt()
		if j.Attempt() == 1 {
			<-ctx.Done() // the first instance dies while running it
			return ctx.Err()
		}
		return nil
	})
	a := jobs.New(db, fast("a"))
	require.NoError(t, a.Register("test.rescue", h))
	actx, crash := context.WithCancel(ctx)
	require.NoError(t, a.Start(actx))
	j, err := a.Enqueue(ctx, "test.rescue", nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	require.Equal(t, 1, <-started)
	crash()

	b := jobs.New(db, fast("b"))
	require.NoError(t, b.Register("test.rescue", h))
	start(t, b)
	require.Equal(t, 2, <-started)
	done := waitState(t, jobs.NewAdmin(db, nil), j.ID, jobs.Succeeded)
	assert.Equal(t, 2, done.Attempts)
	assert.Equal(t, "lease expired: the worker stopped or crashed", done.LastError)
}

// A job whose last attempt's lease expired is dead, not run again.
func TestExpiredLastAttemptIsDead(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	h := jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error { <-ctx.Done(); return ctx.Err() })
	a := jobs.New(db, fast("a"))
	require.NoError(t, a.Register("test.poison", h))
	actx, crash := context.WithCancel(ctx)
	require.NoError(t, a.Start(actx))
	j, err := a.Enqueue(ctx, "test.poison", nil, jobs.EnqueueOptions{MaxAttempts: 1})
	require.NoError(t, err)
	adm := jobs.NewAdmin(db, nil)
	waitState(t, adm, j.ID, jobs.Running)
	crash()

	var runs atomic.Int32
	b := jobs.New(db, fast("b"))
	require.NoError(t, b.Register("test.poison", jobs.HandlerFunc(func(context.Context, jobs.Job) error { runs.Add(1); return nil })))
	start(t, b)
	dead := waitState(t, adm, j.ID, jobs.Dead)
	assert.Equal(t, "lease expired on the last attempt: the worker stopped or crashed", dead.LastError)
	assert.Equal(t, int32(0), runs.Load())
}

// Stop lets a short running job finish; a job still running when the
// drain time is up is cancelled and given back without counting the
// attempt, and another instance runs it at once.
func TestGracefulStopFinishesOrReleases(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	opt := fast("a")
	opt.DrainTimeout = 300 * time.Millisecond
	opt.Lease = time.Hour // a released job must not wait for a lease to expire
	opt.Heartbeat = 10 * time.Minute
	a := jobs.New(db, opt)
	quickStarted, slowStarted := make(chan struct{}), make(chan struct{})
	require.NoError(t, a.Register("test.quick", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		close(quickStarted)
		time.Sleep(100 * time.Millisecond)
		return nil
	})))
	require.NoError(t, a.Register("test.slow", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		close(slowStarted)
		<-ctx.Done()
		return ctx.Err()
	})))
	require.NoError(t, a.Start(ctx))
	quick, err := a.Enqueue(ctx, "test.quick", nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	slow, err := a.Enqueue(ctx, "test.slow", nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	<-quickStarted
	<-slowStarted
	require.NoError(t, a.Stop(ctx))

	adm := jobs.NewAdmin(db, nil)
	q, err := adm.Get(ctx, quick.ID)
	require.NoError(t, err)
	assert.Equal(t, jobs.Succeeded, q.State, "a job that finishes within the drain time is recorded")
	s, err := adm.Get(ctx, slow.ID)
	require.NoError(t, err)
	assert.Equal(t, jobs.Queued, s.State, "a job still running is given back")
	assert.Equal(t, 0, s.Attempts, "the released attempt is not counted")

	b := jobs.New(db, fast("b"))
	require.NoError(t, b.Register("test.slow", jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil })))
	start(t, b)
	waitState(t, adm, slow.ID, jobs.Succeeded)
	assert.ErrorIs(t, a.Start(ctx), jobs.ErrStopped)
}

// Register and Schedule refuse bad input and late calls.
func TestRegisterAndScheduleValidation(t *testing.T) {
	db := storetest.New(t)
	q := jobs.New(db, fast("a"))
	h := jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil })
	require.NoError(t, q.Register("test.ok", h))
	assert.Error(t, q.Register("test.ok", h), "duplicate kind")
	assert.Error(t, q.Register("Not OK", h))
	assert.Error(t, q.Schedule("nightly", "not a spec", "test.ok", nil))
	assert.Error(t, q.Schedule("Bad Name", "@daily", "test.ok", nil))
	require.NoError(t, q.Schedule("nightly", "CRON_TZ=Europe/Berlin 0 2 * * *", "test.ok", nil))
	assert.Error(t, q.Schedule("nightly", "@daily", "test.ok", nil), "duplicate schedule")
	start(t, q)
	assert.Error(t, q.Register("test.late", h))
	assert.Error(t, q.Schedule("late", "@daily", "test.ok", nil))
	assert.Error(t, q.Start(context.Background()))
}
