package importer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

const bundle = `<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>
<entry><fullUrl value="urn:uuid:1"/><resource><Patient><identifier><type><coding><code value="MR"/></coding></type><system value="urn:oid:1.2.3.4"/><value value="BUN-1"/></identifier>
  <name><family value="One"/><given value="Una"/></name><gender value="female"/><birthDate value="1800-01-01"/>
  <telecom><system value="email"/><value value="not-an-email"/></telecom>
  <generalPractitioner><display value="` + "%s" + `"/></generalPractitioner></Patient></resource></entry>
<entry><fullUrl value="urn:uuid:2"/><resource><Patient><name><family value="Two"/><given value="Tia"/></name></Patient></resource></entry>
</Bundle>`

// TestBundleWithSeveralRecords: each record gets its own outcome; a
// record without identifier waits for review, and
// fields the patient service refuses are dropped with a warning.
func TestBundleWithSeveralRecords(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	doc := strings.Replace(bundle, "%s", strings.Repeat("Dr Longname ", 30), 1)
	job := run(t, env, importer.Input{Name: "bundle.xml", Data: []byte(doc)})
	f := job.Files[0]
	assert.Equal(t, importer.ResultCreated, f.Result)
	assert.Equal(t, 2, f.Records)
	assert.False(t, f.Quarantined, "the record without identifier waits for review, it is not rejected")
	assert.Contains(t, f.Detail, "1 of 2 records wait for review")
	var records, elements []string
	for _, p := range f.Problems {
		records = append(records, p.Record)
		elements = append(elements, p.Element)
	}
	assert.Contains(t, records, "urn:uuid:1")
	assert.Contains(t, records, "urn:uuid:2")
	assert.Contains(t, elements, "Patient/birthDate")
	assert.Contains(t, elements, "Patient/telecom")
	assert.Contains(t, elements, "Patient/generalPractitioner")
	p, err := env.Patients.GetByMRN(staff(), "BUN-1")
	require.NoError(t, err)
	assert.Empty(t, p.DateOfBirth)
	assert.Empty(t, p.Email)
	assert.Empty(t, p.ProviderID)
}

// TestNoImporterPlugin: a file whose importer is disabled is never
// rejected: it waits in its job, saying what for, while the rest of the
// job goes on, and it is imported by itself once an admin enables the
// importer (the service's Start loop follows the registry's changes).
func TestNoImporterPlugin(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{ResumeEvery: time.Hour})
	env.Imports.Start(context.Background())
	admin := actor.With(context.Background(), actor.Actor{UserID: "user_admin", Role: actor.RoleAdmin})
	_, err := env.Registry.Disable(admin, "importer-fhir")
	require.NoError(t, err)
	job, err := env.Imports.Run(staff(), []importer.Input{
		{Name: "p.xml", Data: fhirPatient("NP-1", "Ann", "Lee", "1980-01-01", "female", "")},
		{Name: "broken.xml", Data: []byte("<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><recordTarget>")},
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, importer.StatusRunning, job.Status, "the job waits for its importer")
	assert.Equal(t, 1, job.Waiting)
	assert.Equal(t, "1 file waiting for the FHIR XML importer", job.Detail)
	waiting := job.Files[0]
	assert.Equal(t, "pending", waiting.State)
	assert.Empty(t, waiting.Result, "not rejected")
	assert.False(t, waiting.Quarantined)
	assert.Equal(t, importer.FormatFHIRXML, waiting.Waiting)
	assert.Contains(t, waiting.Detail, "waiting for the FHIR XML importer, which is not enabled")
	assert.Equal(t, importer.ResultRejected, job.Files[1].Result, "the other files go on")
	q, err := env.Imports.Quarantine(staff(), 0)
	require.NoError(t, err)
	require.Len(t, q, 1, "only the broken file is in the quarantine")
	assert.Equal(t, "broken.xml", q[0].Name)
	jobs, err := env.Imports.Jobs(staff(), 0)
	require.NoError(t, err)
	assert.Equal(t, 1, jobs[0].Waiting, "the list shows the waiting state")

	// Nothing changed: resuming leaves it waiting.
	_, err = env.Imports.Resume(staff())
	require.NoError(t, err)
	again, err := env.Imports.Job(staff(), job.ID)
	require.NoError(t, err)
	assert.Equal(t, importer.StatusRunning, again.Status)

	_, err = env.Registry.Enable(admin, "importer-fhir")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		j, err := env.Imports.Job(staff(), job.ID)
		return err == nil && j.Status == importer.StatusDone
	}, 30*time.Second, 20*time.Millisecond, "imported by itself once the importer is enabled")
	done, err := env.Imports.Job(staff(), job.ID)
	require.NoError(t, err)
	assert.Equal(t, importer.ResultCreated, done.Files[0].Result, done.Files[0].Detail)
	assert.Empty(t, done.Files[0].Waiting)
	assert.Zero(t, done.Waiting)
	assert.Equal(t, importer.Counts{Created: 1, Rejected: 1}, done.Counts)

	// A file refused before it was read cannot be retried.
	job = run(t, env, importer.Input{Name: "big.xml", Size: 1 << 30, Refused: "too big"})
	_, err = env.Imports.Retry(staff(), job.Files[0].ID)
	assert.ErrorIs(t, err, importer.ErrNotKept)
	_, err = env.Imports.Retry(staff(), "nope")
	assert.ErrorIs(t, err, importer.ErrNotFound)
	_, err = env.Imports.Job(staff(), "nope")
	assert.ErrorIs(t, err, importer.ErrNotFound)
	_, err = env.Imports.Run(staff(), nil, nil)
	assert.Error(t, err)
	_, err = env.Imports.Jobs(context.Background(), 0)
	assert.ErrorIs(t, err, importer.ErrNotSignedIn)
}

// TestAuditDown: no import starts when its audit event cannot be stored.
func TestAuditDown(t *testing.T) {
	rec := &importertest.Recorder{}
	env := importertest.New(t, storetest.New(t), rec, importer.Options{})
	rec.SetFailing(true)
	_, err := env.Imports.Run(staff(), []importer.Input{{Name: "p.xml", Data: fhirPatient("AD-1", "Ann", "Lee", "1980-01-01", "female", "")}}, nil)
	assert.Error(t, err)
	_, err = env.Imports.Document(staff(), strings.Repeat("a", 64))
	assert.Error(t, err)
	_, err = env.Imports.PatientDocuments(staff(), "p_1")
	assert.Error(t, err)
	_, err = env.Imports.Jobs(auditor(), 10)
	assert.Error(t, err)
}

// TestDatabaseDown: every operation fails cleanly (no hang, no panic)
// when the database is gone.
func TestDatabaseDown(t *testing.T) {
	db := storetest.New(t)
	env := importertest.New(t, db, nil, importer.Options{})
	job := run(t, env, importer.Input{Name: "p.xml", Data: fhirPatient("DD-1", "Ann", "Lee", "1980-01-01", "female", "")})
	require.NoError(t, db.Close())
	ctx := staff()
	_, err := env.Imports.Run(ctx, []importer.Input{{Name: "q.xml", Data: []byte("<x/>")}}, nil)
	assert.Error(t, err)
	_, err = env.Imports.Job(ctx, job.ID)
	assert.Error(t, err)
	_, err = env.Imports.Jobs(ctx, 10)
	assert.Error(t, err)
	_, err = env.Imports.Quarantine(ctx, 10)
	assert.Error(t, err)
	_, err = env.Imports.Retry(ctx, job.Files[0].ID)
	assert.Error(t, err)
	_, err = env.Imports.Document(ctx, job.Files[0].DocumentID)
	assert.Error(t, err)
	_, err = env.Imports.PatientDocuments(ctx, job.Files[0].PatientIDs[0])
	assert.Error(t, err)
	_, err = env.Imports.Resume(context.Background())
	assert.Error(t, err)
	_, err = env.Imports.Submit(ctx, []importer.Input{{Name: "q.xml", Data: []byte("<x/>")}})
	assert.Error(t, err)
}
