package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// `pfinni jobs list` shows jobs by state; `pfinni jobs retry` queues a
// dead job again and audits it; a job that is not dead is refused.
func TestJobsCommands(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	aud := &userAudit{}
	adm := jobs.NewAdmin(db, aud)
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runJobs(ctx, adm, db, args, &out)
		return out.String(), err
	}
	live, err := jobs.Enqueue(ctx, db, "test.cli", nil, jobs.EnqueueOptions{}, nil)
	require.NoError(t, err)
	dead, err := jobs.Enqueue(ctx, db, "test.cli", nil, jobs.EnqueueOptions{}, nil)
	require.NoError(t, err)
	require.NoError(t, db.Exec(ctx, `UPDATE $id SET state = 'dead', attempts = 25, last_error = "remote said no\nsecond line"`,
		map[string]any{"id": store.RecordID("job", dead.ID)}))

	out, err := run("list", "--state", "dead")
	require.NoError(t, err)
	assert.Contains(t, out, dead.ID)
	assert.Contains(t, out, "25/25")
	assert.Contains(t, out, "remote said no")
	assert.NotContains(t, out, "second line")
	assert.NotContains(t, out, live.ID)
	assert.Contains(t, out, "1 of 1 jobs")

	out, err = run("retry", dead.ID)
	require.NoError(t, err)
	assert.Contains(t, out, "queued again")
	j, err := adm.Get(ctx, dead.ID)
	require.NoError(t, err)
	assert.Equal(t, jobs.Queued, j.State)
	require.Len(t, aud.events, 1)
	assert.Equal(t, "job.retry", aud.events[0].Action)
	assert.Equal(t, dead.ID, aud.events[0].Record)

	_, err = run("retry", live.ID)
	assert.ErrorIs(t, err, jobs.ErrNotDead)
	_, err = run("list", "--state", "bogus")
	assert.Error(t, err)
	out, err = run("probe", "--count", "3")
	require.NoError(t, err)
	assert.Contains(t, out, "enqueued 3 probe jobs")
	_, total, err := adm.List(ctx, jobs.Filter{Kind: jobs.ProbeKind})
	require.NoError(t, err)
	assert.Equal(t, 3, total)
	_, err = run("probe", "--count", "0")
	assert.Error(t, err)
	_, err = run("frob")
	assert.Error(t, err)
	_, err = run()
	assert.Error(t, err)
}
