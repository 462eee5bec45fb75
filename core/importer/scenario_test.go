package importer_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// fhirPatient is a small FHIR R4 Patient document.
func fhirPatient(mrn, given, family, dob, gender, phone string) []byte {
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <identifier><type><coding><system value="http://terminology.hl7.org/CodeSystem/v2-0203"/><code value="MR"/></coding></type>
    <system value="urn:oid:1.2.3.4"/><value value="%s"/></identifier>
  <name><use value="official"/><family value="%s"/><given value="%s"/></name>
  <telecom><system value="phone"/><value value="%s"/><use value="home"/></telecom>
  <gender value="%s"/>
  <birthDate value="%s"/>
  <generalPractitioner><display value="Dr. Henry Seven"/></generalPractitioner>
</Patient>`, mrn, family, given, phone, gender, dob))
}

func run(t *testing.T, env *importertest.Env, ins ...importer.Input) *importer.Job {
	t.Helper()
	job, err := env.Imports.Run(staff(), ins, nil)
	require.NoError(t, err)
	require.Equal(t, importer.StatusDone, job.Status)
	return job
}

func count(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	n, err := store.Query[int](context.Background(), db, "RETURN count(SELECT id FROM "+table+")", nil)
	require.NoError(t, err)
	return n
}

func TestMatchingByMRN(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	ada := fhirPatient("M-100", "Ada", "Lovelace", "1915-12-10", "female", "555-0100")

	// New MRN: created, onboarding, source names the file; provider created.
	job := run(t, env, importer.Input{Name: "in/ada.xml", Data: ada})
	f := job.Files[0]
	require.Equal(t, importer.ResultCreated, f.Result, f.Detail)
	require.Len(t, f.PatientIDs, 1)
	p, err := env.Patients.GetByMRN(staff(), "M-100")
	require.NoError(t, err)
	assert.Equal(t, "onboarding", string(p.Status))
	assert.Equal(t, "import:ada.xml", p.Source)
	assert.Equal(t, "1915-12-10", p.DateOfBirth)
	assert.NotEmpty(t, p.ProviderID)
	assert.Equal(t, importer.FormatFHIRXML, f.Format)

	// The same file again: unchanged, nothing written.
	job = run(t, env, importer.Input{Name: "again/ada.xml", Data: ada})
	assert.Equal(t, importer.ResultUnchanged, job.Files[0].Result)
	assert.Equal(t, f.PatientIDs, job.Files[0].PatientIDs)
	assert.Contains(t, job.Files[0].Detail, "imported before")
	same, err := env.Patients.Get(staff(), p.ID)
	require.NoError(t, err)
	assert.Equal(t, p.Version, same.Version)

	// Different bytes, same data (whitespace): parsed again, unchanged.
	job = run(t, env, importer.Input{Name: "ada-copy.xml", Data: append(bytes.Clone(ada), '\n')})
	assert.Equal(t, importer.ResultUnchanged, job.Files[0].Result)

	// Changed demographics: updated through the patient service (history).
	job = run(t, env, importer.Input{Name: "ada-new-phone.xml", Data: fhirPatient("M-100", "Ada", "King", "1915-12-10", "female", "555-0199")})
	require.Equal(t, importer.ResultUpdated, job.Files[0].Result, job.Files[0].Problems)
	upd, err := env.Patients.Get(staff(), p.ID)
	require.NoError(t, err)
	assert.Equal(t, "King", upd.LastName)
	assert.Equal(t, "555-0199", upd.Phone)
	assert.Equal(t, p.Version+1, upd.Version)
	assert.Equal(t, p.ProviderID, upd.ProviderID, "provider matched by name, not created again")
	h, err := env.Patients.History(staff(), p.ID)
	require.NoError(t, err)
	require.NotEmpty(t, h.Changes)
	assert.Equal(t, "update", h.Changes[0].Action)
	assert.ElementsMatch(t, []string{"last_name", "phone"}, h.Changes[0].Fields)

	// Another person under the same identifier: not applied, but sent
	// to review (not the quarantine), with the reason in plain words.
	job = run(t, env, importer.Input{Name: "other.xml", Data: fhirPatient("M-100", "Bob", "Builder", "1960-01-01", "male", "555-0100")})
	c := job.Files[0]
	assert.Equal(t, importer.ResultNeedsReview, c.Result)
	assert.False(t, c.Quarantined)
	assert.Empty(t, c.PatientIDs)
	assert.Contains(t, c.Detail, "date of birth, first name, last name and sex differ")
	assert.NotContains(t, c.Detail, "Bob", "details never carry values")
	after, err := env.Patients.Get(staff(), p.ID)
	require.NoError(t, err)
	assert.Equal(t, upd.Version, after.Version)
	assert.Equal(t, 1, count(t, env.DB, "patient"))
	assert.Equal(t, 1, count(t, env.DB, "provider"))
	items, err := env.Review.List(staff(), 0)
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, review.ReasonIdentifierCollision, items[0].Reason)
	assert.Equal(t, []string{p.ID}, items[0].PatientIDs)
	assert.Equal(t, "Builder", items[0].Document.LastName)

	// Only a date of birth that differs is enough for a collision.
	job = run(t, env, importer.Input{Name: "dob.xml", Data: fhirPatient("M-100", "Ada", "King", "1916-12-10", "female", "555-0199")})
	assert.Equal(t, importer.ResultNeedsReview, job.Files[0].Result)
	assert.Contains(t, job.Files[0].Detail, "date of birth differs")
}

func TestQuarantineAndRetry(t *testing.T) {
	// Without a review queue, an identifier collision is rejected.
	env := importertest.NewWithoutReview(t, storetest.New(t), nil, importer.Options{})
	run(t, env, importer.Input{Name: "ada.xml", Data: fhirPatient("M-1", "Ada", "Lovelace", "1915-12-10", "female", "")})
	job := run(t, env, importer.Input{Name: "imposter.xml", Data: fhirPatient("M-1", "Eve", "Mallory", "1990-01-01", "female", "")},
		importer.Input{Name: "notes.txt", Data: []byte("not xml at all")})
	q, err := env.Imports.Quarantine(staff(), 10)
	require.NoError(t, err)
	require.Len(t, q, 2)
	var imposter importer.File
	for _, f := range q {
		if f.Name == "imposter.xml" {
			imposter = f
		}
	}
	require.Equal(t, job.Files[0].ID, imposter.ID)

	// Retry before anything changed: rejected again, the new attempt
	// replaces the old one in the quarantine.
	rj, err := env.Imports.Retry(staff(), imposter.ID)
	require.NoError(t, err)
	require.Len(t, rj.Files, 1)
	assert.Equal(t, importer.ResultRejected, rj.Files[0].Result)
	assert.Equal(t, imposter.ID, rj.Files[0].RetryOf)
	q, _ = env.Imports.Quarantine(staff(), 10)
	assert.Len(t, q, 2)
	_, err = env.Imports.Retry(staff(), imposter.ID)
	assert.ErrorIs(t, err, importer.ErrNotQuarantined)

	// Staff fix the MRN and identifier of the existing patient, then
	// retry: created.
	p, err := env.Patients.GetByMRN(staff(), "M-1")
	require.NoError(t, err)
	mrn := "M-1-OLD"
	_, err = env.Patients.Update(staff(), p.ID, p.Version, patchMRN(mrn))
	require.NoError(t, err)
	rj, err = env.Imports.Retry(staff(), rj.Files[0].ID)
	require.NoError(t, err)
	assert.Equal(t, importer.ResultCreated, rj.Files[0].Result)
	assert.False(t, rj.Files[0].Quarantined)
	q, _ = env.Imports.Quarantine(staff(), 10)
	require.Len(t, q, 1)
	assert.Equal(t, "notes.txt", q[0].Name)
	assert.Contains(t, q[0].Detail, "not an XML document")

	// The original documents are kept, linked, and readable (audited).
	docs, err := env.Imports.PatientDocuments(staff(), rj.Files[0].PatientIDs[0])
	require.NoError(t, err)
	require.Len(t, docs, 1)
	d, err := env.Imports.Document(staff(), docs[0].ID)
	require.NoError(t, err)
	assert.Contains(t, string(d.Content), "Mallory")
	assert.Equal(t, importer.FormatFHIRXML, d.Format)
	rec := env.Audit.(*importertest.Recorder)
	ev, ok := rec.Last("document.read")
	require.True(t, ok)
	assert.Equal(t, "source_document", ev.Resource)
	assert.Equal(t, docs[0].ID, ev.Record)

	// Auditors have no access to PHI: refused, and the refusal audited.
	_, err = env.Imports.Document(auditor(), docs[0].ID)
	assert.ErrorIs(t, err, importer.ErrForbidden)
	ev, _ = rec.Last("document.read")
	assert.Equal(t, "denied", ev.Outcome)
	_, err = env.Imports.Document(staff(), strings.Repeat("0", 64))
	assert.ErrorIs(t, err, importer.ErrNotFound)
	_, err = env.Imports.Run(auditor(), []importer.Input{{Name: "a.xml", Data: []byte("<x/>")}}, nil)
	assert.ErrorIs(t, err, importer.ErrForbidden)

	// Audit events carry ids and results, never PHI.
	for _, e := range rec.Events() {
		for _, s := range []string{"Ada", "Mallory", "M-1", "imposter", "1915"} {
			assert.NotContains(t, e.Detail+e.Record, s, e.Action)
		}
	}
	_, ok = rec.Last("import.file")
	assert.True(t, ok)
	_, ok = rec.Last("import.create")
	assert.True(t, ok)
}

func TestHostileFiles(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{MaxBytes: 10 << 20})
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><ClinicalDocument xmlns="urn:hl7-org:v3">&lol3;</ClinicalDocument>`
	xxe := `<?xml version="1.0"?><!DOCTYPE Patient [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><id value="&xxe;"/></Patient>`
	huge := bytes.Repeat([]byte("<a>x</a>"), (11<<20)/8)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, name := range []string{"../../etc/evil.xml", "/abs.xml", "ok/ada.xml"} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, _ = w.Write(fhirPatient("Z-1", "Ada", "Lovelace", "1915-12-10", "female", ""))
	}
	require.NoError(t, zw.Close())

	ins := []importer.Input{
		{Name: "laughs.xml", Data: []byte(laughs)},
		{Name: "xxe.xml", Data: []byte(xxe)},
		{Name: "huge.xml", Data: huge},
		{Name: "binary.pdf", Data: []byte("%PDF-1.4\x00\x01\x02 binary")},
		{Name: "broken.xml", Data: []byte("<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><recordTarget>")},
		{Name: "empty.xml", Data: nil},
	}
	ins = append(ins, importer.ExpandInputs([]importer.Input{{Name: "bundle.zip", Data: zbuf.Bytes()}}, env.Imports.MaxBytes())...)
	job := run(t, env, ins...)
	want := map[string]string{
		"laughs.xml":              "declares entities",
		"xxe.xml":                 "declares entities",
		"huge.xml":                "larger than the limit",
		"binary.pdf":              "XML document",
		"broken.xml":              "",
		"empty.xml":               "empty",
		"bundle.zip/etc/evil.xml": "climbs out of the archive",
		"bundle.zip/abs.xml":      "absolute path",
		"bundle.zip/ok/ada.xml":   "",
	}
	require.Len(t, job.Files, len(want))
	for _, f := range job.Files {
		reason, ok := want[strings.Replace(f.Name, "../../", "", 1)]
		require.True(t, ok, f.Name)
		if f.Name == "bundle.zip/ok/ada.xml" {
			assert.Equal(t, importer.ResultCreated, f.Result)
			continue
		}
		assert.Equal(t, importer.ResultRejected, f.Result, f.Name)
		assert.NotEmpty(t, f.Detail, f.Name)
		assert.Contains(t, f.Detail, reason, f.Name)
		assert.NotContains(t, f.Detail, "passwd")
	}
	// Nothing but the one good patient; refused files keep no document.
	assert.Equal(t, 1, count(t, env.DB, "patient"))
	docs, err := store.Query[[]string](context.Background(), env.DB, "SELECT VALUE name FROM source_document", nil)
	require.NoError(t, err)
	assert.NotContains(t, docs, "huge.xml")
	assert.NotContains(t, docs, "evil.xml")
}

func patchMRN(mrn string) patient.Patch {
	return patient.Patch{MRN: &mrn, Identifiers: &[]patient.Identifier{{System: "urn:oid:9.9", Value: mrn}}}
}
