package jobs_test

import (
	"context"
	"errors"
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

// Do runs a job on the caller's goroutine and records its outcome like
// a worker; a second Do with the same live unique key is refused.
func TestDoRunsHereAndRecordsTheOutcome(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	q := jobs.New(db, fast("cli"))
	adm := jobs.NewAdmin(db, nil)
	cases := []struct {
		name  string
		err   error
		state jobs.State
	}{
		{"success", nil, jobs.Succeeded},
		{"failure waits for its retry", errors.New("insurer unreachable"), jobs.Failed},
		{"permanent failure", jobs.Permanent(errors.New("bad arguments")), jobs.Dead},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var seen jobs.Job
			j, err := q.Do(ctx, "test.here", greet{PatientID: "patient/p_1"}, jobs.EnqueueOptions{},
				jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
					seen = j
					return tc.err
				}))
			if tc.err == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.err)
			}
			assert.Equal(t, 1, seen.Attempt())
			assert.Equal(t, j.ID, seen.ID)
			got, err := adm.Get(ctx, j.ID)
			require.NoError(t, err)
			assert.Equal(t, tc.state, got.State)
			assert.Equal(t, 1, got.Attempts)
		})
	}

	block := make(chan struct{})
	go func() {
		_, _ = q.Do(ctx, "test.here", nil, jobs.EnqueueOptions{UniqueKey: "here:1"},
			jobs.HandlerFunc(func(context.Context, jobs.Job) error { <-block; return nil }))
	}()
	require.Eventually(t, func() bool {
		list, _, err := adm.List(ctx, jobs.Filter{State: jobs.Running})
		return err == nil && len(list) == 1
	}, time.Minute, 20*time.Millisecond)
	_, err := q.Do(ctx, "test.here", nil, jobs.EnqueueOptions{UniqueKey: "here:1"},
		jobs.HandlerFunc(func(context.Context, jobs.Job) error { t.Error("ran twice"); return nil }))
	assert.ErrorIs(t, err, jobs.ErrHeld)
	close(block)
}

// A caller that gives up hands the job back at once (queued, the
// attempt not counted), and Take on another instance runs it; of two
// instances taking it at the same moment, exactly one runs it.
func TestDoGivesBackAndTakeRunsItOnce(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	a := jobs.New(db, fast("a"))
	cctx, cancel := context.WithCancel(ctx)
	j, err := a.Do(cctx, "test.take", nil, jobs.EnqueueOptions{}, jobs.HandlerFunc(func(ctx context.Context, _ jobs.Job) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}))
	require.ErrorIs(t, err, context.Canceled)
	adm := jobs.NewAdmin(db, nil)
	got, err := adm.Get(ctx, j.ID)
	require.NoError(t, err)
	assert.Equal(t, jobs.Queued, got.State, "given back")
	assert.Equal(t, 0, got.Attempts, "the attempt is not counted")

	var runs atomic.Int32
	h := jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error { runs.Add(1); return nil })
	b, c := jobs.New(db, fast("b")), jobs.New(db, fast("c"))
	require.NoError(t, b.Register("test.take", h))
	require.NoError(t, c.Register("test.take", h))
	var wg sync.WaitGroup
	ran := make([]bool, 2)
	for i, q := range []*jobs.Queue{b, c} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			ran[i], err = q.Take(ctx, j.ID, nil)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), runs.Load())
	assert.True(t, ran[0] != ran[1], "exactly one instance ran it: %v", ran)
	done := waitState(t, adm, j.ID, jobs.Succeeded)
	assert.Equal(t, 1, done.Attempts)

	again, err := b.Take(ctx, j.ID, nil)
	require.NoError(t, err)
	assert.False(t, again, "a finished job is not due")
	_, err = b.Take(ctx, "not a job id", nil)
	assert.ErrorIs(t, err, jobs.ErrNotFound)
}

// An attempt run here stops when another instance holds its job (the
// heartbeat finds the lease gone), and its outcome is not written.
func TestDoStopsWhenItsLeaseIsLost(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	q := jobs.New(db, fast("here"))
	j, err := q.Do(ctx, "test.lost", nil, jobs.EnqueueOptions{}, jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		require.NoError(t, db.Exec(context.Background(), "UPDATE $id SET lease_owner = 'elsewhere'",
			map[string]any{"id": store.RecordID("job", j.ID)}))
		<-ctx.Done()
		return ctx.Err()
	}))
	require.ErrorIs(t, err, jobs.ErrLeaseLost)
	got, err := jobs.NewAdmin(db, nil).Get(ctx, j.ID)
	require.NoError(t, err)
	assert.Equal(t, jobs.Running, got.State, "the new holder decides the outcome")
}
