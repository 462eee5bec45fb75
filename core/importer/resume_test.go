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
	"github.com/pfinni/pfinni/core/importer/importertest"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func people(n int) []importer.Input {
	ins := make([]importer.Input, n)
	for i := range ins {
		ins[i] = importer.Input{Name: fmt.Sprintf("p%02d.xml", i), Data: fhirPatient(fmt.Sprintf("R-%d", i), "Pat", fmt.Sprintf("Number%d", i), "1970-01-01", "female", "")}
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

// TestLeaseHeld: a job whose instance is alive (lease current) is not
// taken over; once the lease has expired it is, by the Start loop.
func TestLeaseHeld(t *testing.T) {
	db := storetest.New(t)
	a := importertest.New(t, db, nil, importer.Options{Instance: "core-a", LeaseTTL: 2 * time.Second})
	// The instance stops right after storing the job (as a kill would):
	// the files stay pending and the lease is held.
	require.NoError(t, a.Imports.Close(context.Background()))
	job, err := a.Imports.Submit(staff(), people(3))
	require.NoError(t, err)
	require.NoError(t, db.Exec(context.Background(), "UPDATE $j SET lease_until = time::now() + 1m",
		map[string]any{"j": store.RecordID("import_job", job.ID)}))
	b := importertest.New(t, db, nil, importer.Options{Instance: "core-b", LeaseTTL: 2 * time.Second, ResumeEvery: 200 * time.Millisecond})
	n, err := b.Imports.Resume(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "the lease is still held")
	require.NoError(t, db.Exec(context.Background(), "UPDATE $j SET lease_until = time::now() - 1s",
		map[string]any{"j": store.RecordID("import_job", job.ID)}))
	b.Imports.Start(context.Background())
	require.Eventually(t, func() bool {
		j, err := b.Imports.Job(actor.System(context.Background()), job.ID)
		return err == nil && j.Status == importer.StatusDone
	}, 20*time.Second, 100*time.Millisecond)
	assert.Equal(t, 3, count(t, db, "patient"))
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
