package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// A failed attempt that asks to wait (a provider's Retry-After) is
// retried no earlier than that, though the backoff is far shorter; the
// wrapped error still matches its cause.
func TestRetryAfterOutlastsTheBackoff(t *testing.T) {
	db := storetest.New(t)
	q := jobs.New(db, fast("a")) // backoff 20 ms
	busy := errors.New("provider busy")
	require.NoError(t, q.Register("test.busy", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		if j.Attempt() == 1 {
			err := jobs.RetryAfter(busy, time.Hour)
			if !errors.Is(err, busy) {
				return jobs.Permanent(errors.New("RetryAfter lost its cause"))
			}
			return err
		}
		return nil
	})))
	start(t, q)
	j, err := q.Enqueue(context.Background(), "test.busy", nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	got := waitState(t, jobs.NewAdmin(db, nil), j.ID, jobs.Failed)
	assert.GreaterOrEqual(t, got.RunAt.Sub(got.UpdatedAt), 59*time.Minute, "the retry waits for the hour asked, not 20 ms")
	assert.Equal(t, "provider busy", got.LastError)
	assert.NoError(t, jobs.RetryAfter(nil, time.Second))
}
