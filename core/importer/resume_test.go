package importer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

func people(n int) []importer.Input {
	ins := make([]importer.Input, n)
	for i := range ins {
		ins[i] = importer.Input{Name: fmt.Sprintf("p%02d.xml", i), Data: fhirPatient(fmt.Sprintf("R-%d", i), "Pat", fmt.Sprintf("Number%d", i), fmt.Sprintf("19%02d-01-01", 40+i), "female", "")}
	}
	return ins
}

// TestResumeAfterInterruption stops a job after 4 of 10 files (as a
// kill would, between two files), then resumes it: nothing is lost,
// nothing is done twice, and of two instances only one takes the job.
func TestResumeAfterInterruption(t *testing.T) {
	db := storetest.New(t)
	env := importertest.New(t, db, nil, importer.Options{Instance: "core-a", LeaseTTL: 3 * time.Second})
	ctx, cancel := context.WithCancel(staff())
	done := 0
	job, err := env.Imports.Run(ctx, people(10), func(p importer.Progress, f importer.File) {
		done++
		assert.Equal(t, 10, p.Total)
		if done == 4 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, job)
	assert.Equal(t, importer.StatusRunning, job.Status)
	// Files already being applied when the stop came are finished; the
	// rest stay pending, with their documents kept.
	done = job.Progress.Done
	assert.GreaterOrEqual(t, done, 4)
	assert.Less(t, done, 10)
	pending := 0
	for _, f := range job.Files {
		if f.State == "pending" {
			pending++
		}
	}
	assert.Equal(t, 10-done, pending)
	assert.Equal(t, done, count(t, db, "patient"))
	assert.Equal(t, 10, count(t, db, "source_document"))

	// Two instances look for interrupted jobs at once: one resumes it.
	other := importertest.New(t, db, nil, importer.Options{Instance: "core-b", LeaseTTL: 3 * time.Second})
	var wg sync.WaitGroup
	var na, nb int
	var ea, eb error
	wg.Add(2)
	go func() { defer wg.Done(); na, ea = env.Imports.Resume(context.Background()) }()
	go func() { defer wg.Done(); nb, eb = other.Imports.Resume(context.Background()) }()
	wg.Wait()
	require.NoError(t, ea)
	require.NoError(t, eb)
	assert.Equal(t, 1, na+nb)

	j, err := env.Imports.Job(staff(), job.ID)
	require.NoError(t, err)
	assert.Equal(t, importer.StatusDone, j.Status)
	assert.Equal(t, importer.Progress{Done: 10, Total: 10}, j.Progress)
	assert.Equal(t, importer.Counts{Created: 10}, j.Counts)
	for _, f := range j.Files {
		assert.Equal(t, importer.ResultCreated, f.Result)
		assert.Equal(t, 1, f.Attempts, "no file is done twice")
	}
	assert.Equal(t, 10, count(t, db, "patient"))
	n, err := env.Imports.Resume(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
}

// TestLeaseHeld: an import whose queue job is held by a live instance
// (lease current) is not taken over; once that lease has expired it is,
// by the Start loop.
func TestLeaseHeld(t *testing.T) {
	db := storetest.New(t)
	a := importertest.New(t, db, nil, importer.Options{Instance: "core-a", LeaseTTL: 2 * time.Second})
	// The instance stops right after storing the job: the files stay
	// pending. Its queue job is then held as by an instance that is
	// still working on it.
	require.NoError(t, a.Imports.Close(context.Background()))
	job, err := a.Imports.Submit(staff(), people(3))
	require.NoError(t, err)
	hold := func(until string) {
		t.Helper()
		require.NoError(t, db.Exec(context.Background(), "UPDATE job SET state = 'running', attempts = 1, lease_owner = 'core-x', lease_until = time::now() "+until+" WHERE unique_key = $k",
			map[string]any{"k": "import:" + job.ID}))
	}
	hold("+ 1m")
	b := importertest.New(t, db, nil, importer.Options{Instance: "core-b", LeaseTTL: 2 * time.Second, ResumeEvery: 200 * time.Millisecond})
	n, err := b.Imports.Resume(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "the lease is still held")
	hold("- 1s")
	b.Imports.Start(context.Background())
	require.Eventually(t, func() bool {
		j, err := b.Imports.Job(actor.System(context.Background()), job.ID)
		return err == nil && j.Status == importer.StatusDone
	}, 20*time.Second, 100*time.Millisecond)
	assert.Equal(t, 3, count(t, db, "patient"))
}

// TestImportTakenOverByQueueWorkers: an import whose instance died
// mid-way (its queue job's lease left to expire) is finished by the
// workers of another instance's job queue — no import resume loop
// involved — and no file is done twice.
func TestImportTakenOverByQueueWorkers(t *testing.T) {
	db := storetest.New(t)
	a := importertest.New(t, db, nil, importer.Options{Instance: "core-a", ApplyWorkers: 1, Workers: 1})
	ctx, crash := context.WithCancel(staff())
	done := 0
	_, err := a.Imports.Run(ctx, people(6), func(p importer.Progress, f importer.File) {
		done++
		if done == 2 {
			// Die as a kill would: the lease stays held by this
			// instance (as if the process were gone) and runs out.
			require.NoError(t, db.Exec(context.Background(), "UPDATE job SET lease_owner = 'core-a-dead', lease_until = time::now() + 2s WHERE unique_key = $k",
				map[string]any{"k": "import:" + f.JobID}))
			crash()
		}
	})
	require.Error(t, err)
	jobsOf := func() []jobs.Job {
		list, _, err := jobs.NewAdmin(db, nil).List(context.Background(), jobs.Filter{Kind: importer.KindProcess})
		require.NoError(t, err)
		return list
	}
	require.Len(t, jobsOf(), 1)
	assert.Equal(t, jobs.Running, jobsOf()[0].State, "the dead instance's lease is still there")

	env := importertest.New(t, db, nil, importer.Options{}) // patients, plugins
	q := jobs.New(db, jobs.Options{Instance: "core-b", Lease: 2 * time.Second, PollInterval: 100 * time.Millisecond})
	_, err = importer.New(importer.Deps{DB: db, Importer: env.Registry, Patients: env.Patients, Providers: env.Patients,
		Auditor: env.Audit, Jobs: q}, importer.Options{})
	require.NoError(t, err)
	require.NoError(t, q.Start(context.Background()))
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	require.Eventually(t, func() bool {
		list := jobsOf()
		return len(list) == 1 && list[0].State == jobs.Succeeded
	}, 2*time.Minute, 100*time.Millisecond)
	assert.Equal(t, 2, jobsOf()[0].Attempts, "taken over once the lease expired")
	js, err := env.Imports.Jobs(staff(), 10)
	require.NoError(t, err)
	require.Len(t, js, 1)
	j, err := env.Imports.Job(staff(), js[0].ID)
	require.NoError(t, err)
	assert.Equal(t, importer.StatusDone, j.Status)
	assert.Equal(t, importer.Counts{Created: 6}, j.Counts)
	for _, f := range j.Files {
		assert.Equal(t, 1, f.Attempts, "no file is done twice")
	}
	assert.Equal(t, 6, count(t, db, "patient"))
}

// TestSubmitInBackground: Submit answers at once; the job completes.
func TestSubmitInBackground(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	job, err := env.Imports.Submit(staff(), people(5))
	require.NoError(t, err)
	assert.Equal(t, importer.StatusRunning, job.Status)
	require.Eventually(t, func() bool {
		j, err := env.Imports.Job(staff(), job.ID)
		return err == nil && j.Status == importer.StatusDone && j.Counts.Created == 5
	}, 20*time.Second, 50*time.Millisecond)
	jobs, err := env.Imports.Jobs(staff(), 10)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	assert.Equal(t, job.ID, jobs[0].ID)
	assert.NotNil(t, jobs[0].FinishedAt)
}

// TestResumeQueuesAnImportWithoutQueueJob: an import whose instance died
// between storing it and queueing it (no queue job) is queued and
// finished by the next Resume.
func TestResumeQueuesAnImportWithoutQueueJob(t *testing.T) {
	db := storetest.New(t)
	env := importertest.New(t, db, nil, importer.Options{})
	require.NoError(t, env.Imports.Close(context.Background()))
	job, err := env.Imports.Submit(staff(), people(2))
	require.NoError(t, err)
	require.NoError(t, db.Exec(context.Background(), "DELETE job WHERE unique_key = $k", map[string]any{"k": "import:" + job.ID}))
	other := importertest.New(t, db, nil, importer.Options{})
	n, err := other.Imports.Resume(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	j, err := other.Imports.Job(staff(), job.ID)
	require.NoError(t, err)
	assert.Equal(t, importer.StatusDone, j.Status)
	assert.Equal(t, importer.Counts{Created: 2}, j.Counts)
}
