package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// ccdaPatient is a small C-CDA document about one patient; without a
// namespace when bare (the C-CDA importer reads it with a warning).
func ccdaPatient(mrn, given, family string, bare bool) []byte {
	ns := ` xmlns="urn:hl7-org:v3"`
	if bare {
		ns = ""
	}
	return []byte(fmt.Sprintf(`<ClinicalDocument%s><recordTarget><patientRole>`+
		`<id root="2.16.840.1.113883.19.5" extension="%s" assigningAuthorityName="Medical Record Number"/>`+
		`<patient><name><given>%s</given><family>%s</family></name><administrativeGenderCode code="F"/><birthTime value="19700101"/></patient>`+
		`</patientRole></recordTarget></ClinicalDocument>`, ns, mrn, given, family))
}

// onQueue is a second import service on env's database whose imports run
// on q (retries at once, so a test need not wait for a backoff).
func onQueue(t *testing.T, env *importertest.Env, instance string) (*importer.Service, *jobs.Queue) {
	t.Helper()
	q := jobs.New(env.DB, jobs.Options{Instance: instance, Backoff: func(int) time.Duration { return 0 }})
	svc, err := importer.New(importer.Deps{DB: env.DB, Importer: env.Registry, Patients: env.Patients, Providers: env.Patients,
		Auditor: env.Audit, Review: review.NewQueue(env.DB, env.Audit), Jobs: q}, importer.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	return svc, q
}

// stored submits ins on a service that runs nothing (as an instance
// that died right after accepting the upload): the import is kept with
// its files pending and its queue job queued.
func stored(t *testing.T, env *importertest.Env, ins ...importer.Input) importer.Job {
	t.Helper()
	require.NoError(t, env.Imports.Close(context.Background()))
	job, err := env.Imports.Submit(staff(), ins)
	require.NoError(t, err)
	return job
}

// resumed runs Resume once, which must work on want imports, and reads
// the import id afterwards.
func resumed(t *testing.T, svc *importer.Service, want int, id string) *importer.Job {
	t.Helper()
	n, err := svc.Resume(context.Background())
	require.NoError(t, err)
	assert.Equal(t, want, n)
	j, err := svc.Job(staff(), id)
	require.NoError(t, err)
	return j
}

func queueJob(t *testing.T, env *importertest.Env, id string) jobs.Job {
	t.Helper()
	j, err := jobs.NewAdmin(env.DB, nil).Get(context.Background(), id)
	require.NoError(t, err)
	return j
}

// TestQueueJobsThatCannotRun: a process job that names no import, or an
// import that is gone, is dead at once with the reason (an admin sees it
// on the jobs page; retrying could not help); one for an import already
// finished succeeds without doing anything again.
func TestQueueJobsThatCannotRun(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	done := run(t, env, people(2)...)
	_, q := onQueue(t, env, "core-b")

	tests := []struct {
		name    string
		args    map[string]any
		state   jobs.State
		wantErr string
	}{
		{"no import named", map[string]any{}, jobs.Dead, "no import job in its arguments"},
		{"import gone", map[string]any{"import": "jgone"}, jobs.Dead, "not found"},
		{"import finished", map[string]any{"import": done.ID}, jobs.Succeeded, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			qj, err := q.Enqueue(context.Background(), importer.KindProcess, tc.args, jobs.EnqueueOptions{})
			require.NoError(t, err)
			ran, err := q.Take(context.Background(), qj.ID, nil)
			assert.True(t, ran)
			got := queueJob(t, env, qj.ID)
			assert.Equal(t, tc.state, got.State)
			assert.Equal(t, 1, got.Attempts, "never retried")
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
			assert.Contains(t, got.LastError, tc.wantErr)
		})
	}
	j, err := env.Imports.Job(staff(), done.ID)
	require.NoError(t, err)
	assert.Equal(t, importer.Counts{Created: 2}, j.Counts)
	for _, f := range j.Files {
		assert.Equal(t, 1, f.Attempts, "the finished import was not done again")
	}
	assert.Equal(t, 2, count(t, env.DB, "patient"))
}

// TestResumeWhileAuditDown: an interrupted import resumed while the
// audit trail cannot be written stops with that error, keeps its files
// pending and its queue job failed (to be retried); once the audit trail
// is back, the next resume finishes it, each file once, nobody twice —
// for new patients and for a record that goes to the review queue.
func TestResumeWhileAuditDown(t *testing.T) {
	noSystem := `<Patient xmlns="http://hl7.org/fhir"><identifier><value value="NS-1"/></identifier><name><family value="Nosys"/><given value="Nia"/></name></Patient>`
	tests := []struct {
		name     string
		ins      []importer.Input
		want     func(c importer.Counts) int // files with the expected result
		patients int
		reviews  int
	}{
		{"new patients", people(3), func(c importer.Counts) int { return c.Created + c.Unchanged }, 3, 0},
		{"record for review", []importer.Input{{Name: "nia.xml", Data: []byte(noSystem)}}, func(c importer.Counts) int { return c.NeedsReview }, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &importertest.Recorder{}
			env := importertest.New(t, storetest.New(t), rec, importer.Options{})
			job := stored(t, env, tc.ins...)
			svc, _ := onQueue(t, env, "core-b")

			rec.SetFailing(true)
			_, err := svc.Resume(context.Background())
			require.Error(t, err)
			assert.ErrorIs(t, err, fault.ErrUnavailable)
			assert.ErrorContains(t, err, "resume imports")
			rec.SetFailing(false)

			j, err := svc.Job(staff(), job.ID)
			require.NoError(t, err)
			assert.Equal(t, importer.StatusRunning, j.Status)
			assert.Zero(t, j.Progress.Done, "no file is counted done without its audit event")
			for _, f := range j.Files {
				assert.Equal(t, "pending", f.State, f.Name)
			}
			list, _, err := jobs.NewAdmin(env.DB, nil).List(context.Background(), jobs.Filter{Kind: importer.KindProcess})
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, jobs.Failed, list[0].State)
			assert.NotEmpty(t, list[0].LastError)

			j = resumed(t, svc, 1, job.ID)
			assert.Equal(t, importer.StatusDone, j.Status)
			assert.Equal(t, len(tc.ins), tc.want(j.Counts), "%+v", j.Counts)
			for _, f := range j.Files {
				assert.Equal(t, 1, f.Attempts, "no file is done twice")
			}
			assert.Equal(t, tc.patients, count(t, env.DB, "patient"), "nobody imported twice")
			assert.Equal(t, tc.reviews, count(t, env.DB, "review_item"), "one review item per record")
			assert.Equal(t, jobs.Succeeded, queueJob(t, env, list[0].ID).State)
		})
	}
}

// TestRetryWhileAuditDown: retrying a quarantined file while the audit
// trail cannot be written fails with a clear error, and the file stays
// in the quarantine to be retried later.
func TestRetryWhileAuditDown(t *testing.T) {
	rec := &importertest.Recorder{}
	env := importertest.New(t, storetest.New(t), rec, importer.Options{})
	job := run(t, env, importer.Input{Name: "broken.xml", Data: []byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget>`)})
	require.True(t, job.Files[0].Quarantined)
	rec.SetFailing(true)
	_, err := env.Imports.Retry(staff(), job.Files[0].ID)
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	rec.SetFailing(false)
	q, err := env.Imports.Quarantine(staff(), 0)
	require.NoError(t, err)
	require.Len(t, q, 1)
	assert.Equal(t, job.Files[0].ID, q[0].ID)
}

// TestDocumentsLargerThanOneBatch: an import whose documents weigh more
// than one database write keeps every one of them (they are written in
// several batches); a kept document nobody was imported from lists no
// patient.
func TestDocumentsLargerThanOneBatch(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	var ins []importer.Input
	for i := range 3 {
		// Scans, not XML documents: rejected at once, but kept.
		data := append([]byte(fmt.Sprintf("%%PDF-1.4 scan %d\n\x00", i)), bytes.Repeat([]byte{'s'}, 5<<20)...)
		ins = append(ins, importer.Input{Name: fmt.Sprintf("scan%d.pdf", i), Data: data})
	}
	job := run(t, env, ins...)
	assert.Equal(t, importer.Counts{Rejected: 3}, job.Counts)
	assert.Equal(t, 3, count(t, env.DB, "source_document"))
	for i, f := range job.Files {
		assert.True(t, f.Quarantined, f.Name)
		d, err := env.Imports.Document(staff(), f.DocumentID)
		require.NoError(t, err)
		assert.Equal(t, ins[i].Data, d.Content)
		assert.NotNil(t, d.PatientIDs)
		assert.Empty(t, d.PatientIDs)
	}
}

// TestResumeLeavesWaitingFileWaiting: an import interrupted while one of
// its files waits for a disabled importer is resumed for its other
// files; the waiting file is not read again and keeps waiting, and the
// import finishes once the importer is enabled.
func TestResumeLeavesWaitingFileWaiting(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{Workers: 1, ApplyWorkers: 1})
	admin := actor.With(context.Background(), actor.Actor{UserID: "user_admin", Role: actor.RoleAdmin})
	_, err := env.Registry.Disable(admin, "importer-ccda")
	require.NoError(t, err)
	ins := append([]importer.Input{{Name: "cda.xml", Data: ccdaPatient("CW-1", "Cora", "Wait", false)}}, people(8)...)
	ctx, crash := context.WithCancel(staff())
	job, err := env.Imports.Run(ctx, ins, func(importer.Progress, importer.File) { crash() })
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, job)
	require.Equal(t, importer.FormatCCDA, job.Files[0].Waiting)
	detail := job.Files[0].Detail
	assert.Contains(t, detail, "waiting for the C-CDA importer, which is not enabled")
	require.Less(t, job.Progress.Done, 8, "some files were left pending by the stop")

	j := resumed(t, env.Imports, 1, job.ID)
	assert.Equal(t, importer.StatusRunning, j.Status)
	assert.Equal(t, importer.Counts{Created: 8}, j.Counts)
	assert.Equal(t, 1, j.Waiting)
	cda := j.Files[0]
	assert.Equal(t, "pending", cda.State)
	assert.Equal(t, detail, cda.Detail)
	assert.Zero(t, cda.Attempts)

	n, err := env.Imports.Resume(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing to do until the importer is in service")

	_, err = env.Registry.Enable(admin, "importer-ccda")
	require.NoError(t, err)
	j = resumed(t, env.Imports, 1, job.ID)
	assert.Equal(t, importer.StatusDone, j.Status)
	assert.Equal(t, importer.ResultCreated, j.Files[0].Result, j.Files[0].Detail)
	assert.Equal(t, importer.Counts{Created: 9}, j.Counts)
}

// TestKeptDocumentGone: a pending file whose kept document was deleted
// from the database meanwhile is rejected with that reason when the
// import resumes (nothing to read), and the rest of the import goes on.
func TestKeptDocumentGone(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	ins := people(2)
	job := stored(t, env, ins...)
	require.NoError(t, env.DB.Exec(context.Background(), "DELETE source_document WHERE name = 'p00.xml'", nil))
	other := importertest.New(t, env.DB, nil, importer.Options{})
	j := resumed(t, other.Imports, 1, job.ID)
	assert.Equal(t, importer.StatusDone, j.Status)
	assert.Equal(t, importer.ResultRejected, j.Files[0].Result)
	assert.Equal(t, "the kept document is missing from the database", j.Files[0].Detail)
	assert.True(t, j.Files[0].Quarantined)
	assert.Equal(t, importer.ResultCreated, j.Files[1].Result)
	assert.Equal(t, 1, count(t, env.DB, "patient"))
}

// TestOneImportServicePerQueue: wiring two import services onto one job
// queue is refused (the queue would run one kind with two handlers).
func TestOneImportServicePerQueue(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	_, q := onQueue(t, env, "core-b")
	_, err := importer.New(importer.Deps{DB: env.DB, Importer: env.Registry, Patients: env.Patients, Providers: env.Patients,
		Auditor: env.Audit, Jobs: q}, importer.Options{})
	assert.ErrorContains(t, err, "new import service")
}

// TestImporterThatCannotTell: with an importer that does not report
// which formats it serves (not the plugin registry), imports run as
// usual; a file given without a name is called "unnamed".
func TestImporterThatCannotTell(t *testing.T) {
	env := importertest.NewWith(t, storetest.New(t), nil, importertest.Native{}, importer.Options{})
	env.Imports.Start(context.Background())
	job := run(t, env, importer.Input{Data: fhirPatient("UN-1", "Una", "Named", "1980-01-01", "female", "")})
	assert.Equal(t, "unnamed", job.Files[0].Name)
	assert.Equal(t, importer.ResultCreated, job.Files[0].Result, job.Files[0].Detail)
	p, err := env.Patients.GetByMRN(staff(), "UN-1")
	require.NoError(t, err)
	assert.Equal(t, "import:unnamed", p.Source)
}
