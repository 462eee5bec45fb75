package importer_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

func TestDryRunCases(t *testing.T) {
	db := storetest.New(t)
	env := importertest.New(t, db, nil, importer.Options{MaxBytes: 4096})
	ctx := staff()
	p, err := env.Patients.Create(ctx, patient.Input{MRN: "KEEP-1", FirstName: "Ann", LastName: "Lee", DateOfBirth: "1980-01-02", Sex: "female", Status: patient.StatusActive})
	require.NoError(t, err)

	dry := func(name, doc string, mapping map[string]string) *importer.DryRun {
		t.Helper()
		dr, err := env.Imports.DryRun(ctx, importer.Input{Name: name, Data: []byte(doc), Mapping: mapping})
		require.NoError(t, err)
		return dr
	}

	// Update, unchanged, review (no MRN), the same MRN twice, status.
	dr := dry("a.csv", "MRN,First,Last,DOB,Sex,Phone,Status\n"+
		"KEEP-1,Ann,Lee,1980-01-02,F,,\n"+
		"KEEP-1,Ann,Lee,1980-01-02,F,503-555-0100,\n"+
		",Nomrn,Person,1990-01-01,M,,\n"+
		"NEW-1,Cy,Ng,1991-02-03,M,,active\n"+
		"NEW-1,Cy,Ng,1991-02-03,M,,\n", nil)
	acts := []string{}
	for _, r := range dr.Rows {
		acts = append(acts, r.Action)
	}
	assert.Equal(t, []string{importer.ActionUnchanged, importer.ActionUpdate, importer.ActionReview, importer.ActionCreate, importer.ActionUpdate}, acts)
	assert.Equal(t, []string{"phone"}, dr.Rows[1].Fields)
	assert.Equal(t, []string{p.ID}, dr.Rows[1].PatientIDs)
	assert.Equal(t, "no_identifier", dr.Rows[2].Reason)
	assert.Equal(t, "active", dr.Rows[3].Values["status"])

	// A provider the practice does not have would be created and
	// assigned: an update of the patient. (A known one is found by name.)
	_, err = env.Patients.CreateProvider(ctx, patient.ProviderInput{Name: "Dr Known Person"})
	require.NoError(t, err)
	dr = dry("p.csv", "MRN,First,Last,DOB,Sex,PCP\nKEEP-1,Ann,Lee,1980-01-02,F,Dr New Person\nNEW-9,Di,Oh,1970-01-01,F,Known Person MD\n", nil)
	assert.Equal(t, importer.ActionUpdate, dr.Rows[0].Action)
	assert.Equal(t, []string{"provider_id"}, dr.Rows[0].Fields)
	assert.Equal(t, importer.ActionCreate, dr.Rows[1].Action)

	// A table without name columns: the columns, and why nothing would be imported.
	dr = dry("b.csv", "Colour,Size\nred,9\n", nil)
	assert.Equal(t, "the document holds no patient record", dr.Detail)
	assert.Len(t, dr.Columns, 2)
	assert.NotEmpty(t, dr.Problems)
	// ... which a mapping fixes.
	dr = dry("b.csv", "Colour,Size\nred,9\n", map[string]string{"Colour": "last_name", "Size": "first_name"})
	assert.Equal(t, 1, dr.Counts.Review, "no MRN: waits for review")

	// Not CSV or XML; an importer refusal; XML works too.
	assert.Contains(t, dry("c.txt", "hello", nil).Detail, "not an XML document")
	assert.Contains(t, dry("d.csv", "Last,First\n\"open", map[string]string{"Last": "shoe"}).Detail, "unknown field")
	x := dry("e.xml", string(fhirPatient("X-1", "Zed", "Quux", "1970-01-01", "male", "555-0100")), nil)
	assert.Equal(t, importer.FormatFHIRXML, x.Format)
	assert.Equal(t, 1, x.Counts.Create)

	// Refused inputs: a role without imports, an archive, an empty or too
	// large file.
	_, err = env.Imports.DryRun(auditor(), importer.Input{Name: "a.csv", Data: []byte("a,b\n")})
	assert.ErrorIs(t, err, fault.ErrForbidden)
	_, err = env.Imports.DryRun(ctx, importer.Input{Name: "a.zip", Data: zipBytes(t, map[string][]byte{"a.csv": []byte("a,b\n")})})
	assert.ErrorIs(t, err, fault.ErrInvalid)
	_, err = env.Imports.DryRun(ctx, importer.Input{Name: "a.csv"})
	assert.ErrorIs(t, err, fault.ErrInvalid)
	_, err = env.Imports.DryRun(ctx, importer.Input{Name: "a.csv", Refused: "too big"})
	assert.ErrorIs(t, err, fault.ErrInvalid)
	_, err = env.Imports.DryRun(ctx, importer.Input{Name: "a.csv", Data: make([]byte, 5000)})
	assert.ErrorIs(t, err, fault.ErrInvalid)

	// Commit: unknown, forbidden, expired.
	_, err = env.Imports.Commit(ctx, "nope")
	assert.ErrorIs(t, err, importer.ErrDraftNotFound)
	_, err = env.Imports.Commit(auditor(), dr.ID)
	assert.ErrorIs(t, err, fault.ErrForbidden)
	require.NoError(t, db.Exec(context.Background(), "UPDATE import_draft SET expires_at = time::now() - 1s", nil))
	_, err = env.Imports.Commit(ctx, dr.ID)
	assert.ErrorIs(t, err, importer.ErrDraftNotFound)
	// The next dry run purges expired drafts.
	dry("f.csv", "Last,First\nA,B\n", nil)
	assert.Equal(t, 1, count(t, db, "import_draft"))

	// A mapped CSV committed keeps its mapping on the file for a retry.
	dr = dry("g.csv", "Nr,Given,Family\nG-1,Gi,Ho\n", map[string]string{"Nr": "mrn"})
	job, err := env.Imports.Commit(ctx, dr.ID)
	require.NoError(t, err)
	j := waitJob(t, env, job.ID)
	assert.Equal(t, importer.ResultCreated, j.Files[0].Result, j.Files[0].Detail)
	g, err := env.Patients.GetByMRN(ctx, "G-1")
	require.NoError(t, err)
	assert.Equal(t, patient.StatusOnboarding, g.Status)
}

// When the audit trail is down, a dry run fails whole (no report and no
// kept file without its audit event) and a commit fails, keeping the
// dry run for another try.
func TestDryRunFailsWhole(t *testing.T) {
	db := storetest.New(t)
	rec := &importertest.Recorder{}
	env := importertest.New(t, db, rec, importer.Options{})
	doc := []byte("MRN,Last,First\nF-1,Lee,Ann\n")
	dr, err := env.Imports.DryRun(staff(), importer.Input{Name: "a.csv", Data: doc})
	require.NoError(t, err)

	rec.SetFailing(true)
	_, err = env.Imports.DryRun(staff(), importer.Input{Name: "a.csv", Data: doc})
	require.Error(t, err)
	_, err = env.Imports.Commit(staff(), dr.ID)
	require.Error(t, err)
	rec.SetFailing(false)
	assert.Equal(t, 1, count(t, db, "import_draft"), "the draft stays for another try")
}
