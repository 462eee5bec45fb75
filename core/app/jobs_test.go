package app

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/jobs"
)

// A serving app runs the job queue's workers (its built-in retention job
// runs to success); a CLI app builds the queue without running it; the
// admin API lists the jobs.
func TestServingAppRunsJobs(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	cli, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}, NoHTTP: true})
	require.NoError(t, err)
	queued, err := cli.Jobs.Enqueue(ctx, jobs.RetentionKind, nil, jobs.EnqueueOptions{})
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	j, err := cli.JobsAdmin.Get(ctx, queued.ID)
	require.NoError(t, err)
	assert.Equal(t, jobs.Queued, j.State, "a CLI process runs no workers")
	require.NotNil(t, cli.Cache)
	require.NoError(t, cli.Close(ctx))

	srv, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}})
	require.NoError(t, err)
	defer srv.Close(ctx)
	require.Eventually(t, func() bool {
		j, err := srv.JobsAdmin.Get(ctx, queued.ID)
		return err == nil && j.State == jobs.Succeeded
	}, 30*time.Second, 50*time.Millisecond, "the serving app ran the job")
}
