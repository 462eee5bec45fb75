package importer_test

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/importer"

	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// TestUpdateDropsRefusedFields: a changed value the patient service
// refuses is left out with a warning; the rest of the record applies.
func TestUpdateDropsRefusedFields(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	run(t, env, importer.Input{Name: "a.xml", Data: fhirPatient("UD-1", "Ann", "Lee", "1980-01-01", "female", "555-0100")})
	job := run(t, env, importer.Input{Name: "b.xml", Data: fhirPatient("UD-1", "Ann", "Lee", "1980-01-01", "female", "555-0199 ext 12")})
	f := job.Files[0]
	assert.Equal(t, importer.ResultUnchanged, f.Result)
	var msgs []string
	for _, p := range f.Problems {
		msgs = append(msgs, p.Element+": "+p.Message)
	}
	assert.Contains(t, msgs, "Patient/telecom: phone must be 7-15 digits, optionally with +, parentheses, dashes, dots or spaces; it was not imported (the kept document has it)")
}

// TestLeaseLost: a job another instance took over stops here.
func TestLeaseLost(t *testing.T) {
	db := storetest.New(t)
	env := importertest.New(t, db, nil, importer.Options{LeaseTTL: 300 * time.Millisecond, ApplyWorkers: 1, Workers: 1})
	var jobID string
	_, err := env.Imports.Run(staff(), people(4), func(_ importer.Progress, f importer.File) {
		if jobID == "" {
			jobID = f.JobID
			require.NoError(t, db.Exec(context.Background(), "UPDATE job SET lease_owner = 'someone-else' WHERE unique_key = $k", map[string]any{"k": "import:" + f.JobID}))
			time.Sleep(400 * time.Millisecond)
		}
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lease lost")
}

// TestJobsWhileRunning: progress of running jobs is counted from files.
func TestJobsWhileRunning(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	require.NoError(t, env.Imports.Close(context.Background()))
	job, err := env.Imports.Submit(staff(), people(2))
	require.NoError(t, err)
	jobs, err := env.Imports.Jobs(staff(), 1000)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	assert.Equal(t, job.ID, jobs[0].ID)
	assert.Equal(t, importer.StatusRunning, jobs[0].Status)
	assert.Equal(t, importer.Progress{Done: 0, Total: 2}, jobs[0].Progress)
	q, err := env.Imports.Quarantine(staff(), 0)
	require.NoError(t, err)
	assert.Empty(t, q)
}

func TestArchiveLinksAndFolders(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "link.xml"}
	h.SetMode(os.ModeSymlink | 0o777)
	w, err := zw.CreateHeader(h)
	require.NoError(t, err)
	_, _ = w.Write([]byte("/etc/passwd"))
	require.NoError(t, zw.Close())
	in := importer.ExpandZip("l.zip", buf.Bytes(), 1000)
	require.Len(t, in, 1)
	assert.Contains(t, in[0].Refused, "link or special file")
}

// TestReimportAfterDelete: an earlier import whose patient was deleted
// does not make the same document "unchanged": it is imported again.
func TestReimportAfterDelete(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	doc := importer.Input{Name: "a.xml", Data: fhirPatient("RD-1", "Ann", "Lee", "1980-01-01", "female", "")}
	job := run(t, env, doc)
	p, err := env.Patients.Get(staff(), job.Files[0].PatientIDs[0])
	require.NoError(t, err)
	admin := actor.With(context.Background(), actor.Actor{UserID: "user_admin", Role: actor.RoleAdmin})
	require.NoError(t, env.Patients.Delete(admin, p.ID, p.Version))
	job = run(t, env, doc)
	assert.Equal(t, importer.ResultCreated, job.Files[0].Result)
}

// TestAuditorsRefused: auditors have no access to imports or documents.
func TestAuditorsRefused(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	ctx := auditor()
	_, err := env.Imports.Job(ctx, "x")
	assert.ErrorIs(t, err, importer.ErrForbidden)
	_, err = env.Imports.Quarantine(ctx, 1)
	assert.ErrorIs(t, err, importer.ErrForbidden)
	_, err = env.Imports.Retry(ctx, "x")
	assert.ErrorIs(t, err, importer.ErrForbidden)
	_, err = env.Imports.PatientDocuments(ctx, "p_x")
	assert.ErrorIs(t, err, importer.ErrForbidden)
	_, err = env.Imports.Submit(ctx, people(1))
	assert.ErrorIs(t, err, importer.ErrForbidden)
}
