package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// Retention deletes only finished jobs past their age: succeeded and
// dead ones, never queued or waiting ones.
func TestPurgeFinishedKeepsLiveJobs(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	q := jobs.New(db, fast("a"))
	require.NoError(t, q.Register("test.ok", jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil })))
	require.NoError(t, jobs.RegisterRetention(q, jobs.Retention{}))
	ok, err := q.Enqueue(ctx, "test.ok", nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	waiting, err := q.Enqueue(ctx, "test.ok", nil, jobs.EnqueueOptions{RunAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	start(t, q)
	adm := jobs.NewAdmin(db, nil)
	waitState(t, adm, ok.ID, jobs.Succeeded)

	n, err := jobs.PurgeFinished(ctx, db, jobs.Retention{Succeeded: time.Hour, Dead: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 0, n, "a job that just succeeded is kept")
	time.Sleep(20 * time.Millisecond)
	n, err = jobs.PurgeFinished(ctx, db, jobs.Retention{Succeeded: time.Millisecond, Dead: time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = adm.Get(ctx, ok.ID)
	assert.ErrorIs(t, err, jobs.ErrNotFound)
	_, err = adm.Get(ctx, waiting.ID)
	assert.NoError(t, err)
}
