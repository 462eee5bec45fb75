package importer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/importer/importertest"
	"github.com/pfinni/pfinni/core/store/storetest"
)

const bundle = `<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>
<entry><fullUrl value="urn:uuid:1"/><resource><Patient><identifier><type><coding><code value="MR"/></coding></type><value value="BUN-1"/></identifier>
  <name><family value="One"/><given value="Una"/></name><gender value="female"/><birthDate value="1800-01-01"/>
  <telecom><system value="email"/><value value="not-an-email"/></telecom>
  <generalPractitioner><display value="` + "%s" + `"/></generalPractitioner></Patient></resource></entry>
<entry><fullUrl value="urn:uuid:2"/><resource><Patient><name><family value="Two"/><given value="Tia"/></name></Patient></resource></entry>
</Bundle>`

// TestBundleWithSeveralRecords: each record gets its own outcome; a
// record that cannot be imported keeps the file in the quarantine, and
// fields the patient service refuses are dropped with a warning.
func TestBundleWithSeveralRecords(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	doc := strings.Replace(bundle, "%s", strings.Repeat("Dr Longname ", 30), 1)
	job := run(t, env, importer.Input{Name: "bundle.xml", Data: []byte(doc)})
	f := job.Files[0]
	assert.Equal(t, importer.ResultCreated, f.Result)
	assert.Equal(t, 2, f.Records)
	assert.True(t, f.Quarantined)
	assert.Contains(t, f.Detail, "1 of 2 records could not be imported")
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

// TestNoImporterPlugin: with the importer disabled, files are rejected
// with a reason that says what to do, and a retry after enabling works.
func TestNoImporterPlugin(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	admin := actor.With(context.Background(), actor.Actor{UserID: "user_admin", Role: actor.RoleAdmin})
	_, err := env.Registry.Disable(admin, "importer-fhir")
	require.NoError(t, err)
	job := run(t, env, importer.Input{Name: "p.xml", Data: fhirPatient("NP-1", "Ann", "Lee", "1980-01-01", "female", "")})
	assert.Equal(t, importer.ResultRejected, job.Files[0].Result)
	assert.Contains(t, job.Files[0].Detail, "no importer plugin for FHIR XML is enabled")
	_, err = env.Registry.Enable(admin, "importer-fhir")
	require.NoError(t, err)
	rj, err := env.Imports.Retry(staff(), job.Files[0].ID)
	require.NoError(t, err)
	assert.Equal(t, importer.ResultCreated, rj.Files[0].Result)

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
