package importer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// fhirWithSystem is a FHIR Patient whose one identifier has a system.
func fhirWithSystem(system, value, given, family, dob string) []byte {
	return []byte(fmt.Sprintf(`<Patient xmlns="http://hl7.org/fhir"><identifier><system value="%s"/><value value="%s"/></identifier>`+
		`<name><family value="%s"/><given value="%s"/></name><gender value="female"/><birthDate value="%s"/></Patient>`, system, value, family, given, dob))
}

func TestIdentifiersMatchWithTheirSystem(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})

	// The same value under two systems: two people, two patients. The
	// second cannot take the number as its MRN (the first holds it), so
	// it gets a practice MRN and keeps the number as an identifier.
	job := run(t, env,
		importer.Input{Name: "a.xml", Data: fhirWithSystem("urn:oid:1.1.1", "12345", "Ada", "Lovelace", "1915-12-10")},
		importer.Input{Name: "b.xml", Data: fhirWithSystem("http://hospital.example.org/mrn", "12345", "Grace", "Hopper", "1906-12-09")})
	require.Equal(t, importer.ResultCreated, job.Files[0].Result, job.Files[0].Detail)
	require.Equal(t, importer.ResultCreated, job.Files[1].Result, job.Files[1].Detail)
	ada, err := env.Patients.Get(staff(), job.Files[0].PatientIDs[0])
	require.NoError(t, err)
	grace, err := env.Patients.Get(staff(), job.Files[1].PatientIDs[0])
	require.NoError(t, err)
	assert.NotEqual(t, ada.ID, grace.ID)
	assert.Equal(t, "12345", ada.MRN)
	assert.NotEqual(t, "12345", grace.MRN)
	assert.Equal(t, []patient.Identifier{{System: "http://hospital.example.org/mrn", Value: "12345"}}, grace.Identifiers)

	// The same (system, value) again — written as a bare OID the way
	// C-CDA does — with a new identifier: the same patient, updated, and
	// the new identifier added.
	doc := fmt.Sprintf(`<Patient xmlns="http://hl7.org/fhir"><identifier><system value="URN:OID:1.1.1"/><value value="12345"/></identifier>` +
		`<identifier><system value="urn:oid:2.2.2"/><value value="A-9"/></identifier>` +
		`<name><family value="Lovelace"/><given value="Ada"/></name><gender value="female"/><birthDate value="1915-12-10"/><telecom><system value="phone"/><value value="555-0100"/></telecom></Patient>`)
	job = run(t, env, importer.Input{Name: "a2.xml", Data: []byte(doc)})
	require.Equal(t, importer.ResultUpdated, job.Files[0].Result, job.Files[0].Detail)
	assert.Equal(t, []string{ada.ID}, job.Files[0].PatientIDs)
	again, err := env.Patients.Get(staff(), ada.ID)
	require.NoError(t, err)
	assert.Len(t, again.Identifiers, 2)
	assert.Equal(t, 2, env.Patients.Count())

	// Nobody holds a third system's identifier, but the record looks
	// like Grace: it waits for review with Grace as the candidate.
	job = run(t, env, importer.Input{Name: "c.xml", Data: fhirWithSystem("urn:oid:3.3.3", "G-1", "Grace", "Hoper", "1906-12-09")})
	require.Equal(t, importer.ResultNeedsReview, job.Files[0].Result, job.Files[0].Detail)
	entries, err := env.Review.List(staff(), 0)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, review.ReasonLikelyDuplicate, entries[0].Reason)
	require.NotEmpty(t, entries[0].Candidates)
	assert.Equal(t, grace.ID, entries[0].Candidates[0].ID)

	// The reviewer says it is Grace: her record gains the identifier.
	_, err = env.Review.Resolve(staff(), entries[0].ID, review.ActionSame, grace.ID)
	require.NoError(t, err)
	g2, err := env.Patients.Get(staff(), grace.ID)
	require.NoError(t, err)
	assert.Contains(t, g2.Identifiers, patient.Identifier{System: "urn:oid:3.3.3", Value: "G-1"})
	assert.Equal(t, "Hoper", g2.LastName, "the import rules: what the document states replaces")
}

func TestIdentityDecisions(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})

	// Identifiers held by two different patients: review.
	job := run(t, env,
		importer.Input{Name: "a.xml", Data: fhirWithSystem("urn:oid:1.1", "A", "Ada", "Lovelace", "1915-12-10")},
		importer.Input{Name: "b.xml", Data: fhirWithSystem("urn:oid:2.2", "B", "Bea", "Quill", "1975-06-07")})
	require.Equal(t, importer.ResultCreated, job.Files[1].Result, job.Files[1].Detail)
	both := `<Patient xmlns="http://hl7.org/fhir"><identifier><system value="urn:oid:1.1"/><value value="A"/></identifier>` +
		`<identifier><system value="urn:oid:2.2"/><value value="B"/></identifier><name><family value="Lovelace"/><given value="Ada"/></name></Patient>`
	job = run(t, env, importer.Input{Name: "both.xml", Data: []byte(both)})
	assert.Equal(t, importer.ResultNeedsReview, job.Files[0].Result)
	assert.Contains(t, job.Files[0].Detail, "belong to different patients")

	// A number that does not fit pfinni's MRN rule stays an identifier;
	// the MRN is generated.
	job = run(t, env, importer.Input{Name: "odd.xml", Data: fhirWithSystem("urn:oid:3.3", "12 34/5", "Cyd", "Rowe", "1999-09-09")})
	require.Equal(t, importer.ResultCreated, job.Files[0].Result, job.Files[0].Detail)
	cyd, err := env.Patients.Get(staff(), job.Files[0].PatientIDs[0])
	require.NoError(t, err)
	assert.Regexp(t, `^PF-`, cyd.MRN)
	assert.Equal(t, "12 34/5", cyd.Identifiers[0].Value)

	// A name pfinni refuses rejects the record, on create and on update;
	// a refused optional field is dropped with a warning.
	long := strings.Repeat("x", 150)
	job = run(t, env,
		importer.Input{Name: "long.xml", Data: fhirWithSystem("urn:oid:5.5", "L", long, "Long", "1990-01-01")},
		importer.Input{Name: "ada-long.xml", Data: fhirWithSystem("urn:oid:1.1", "A", "Ada", long, "1915-12-10")})
	for _, f := range job.Files {
		assert.Equal(t, importer.ResultRejected, f.Result, f.Name)
		assert.Contains(t, f.Detail, "must be at most 100 characters", f.Name)
	}
	mail := `<Patient xmlns="http://hl7.org/fhir"><identifier><system value="urn:oid:1.1"/><value value="A"/></identifier>` +
		`<name><family value="Lovelace"/><given value="Ada"/></name><telecom><system value="email"/><value value="ada@x"/></telecom>` +
		`<telecom><system value="phone"/><value value="555-0100"/></telecom><birthDate value="1915-12-10"/></Patient>`
	job = run(t, env, importer.Input{Name: "ada-mail.xml", Data: []byte(mail)})
	require.Equal(t, importer.ResultUpdated, job.Files[0].Result, job.Files[0].Detail)

	// ApplyReviewed: new patients get a practice MRN; applying to a
	// patient follows the import rules and drops what the service
	// refuses; an unknown patient is an error.
	in := patient.Input{MRN: "A", FirstName: "Dee", LastName: "Vance", Sex: "female", Source: "import:d.xml",
		Identifiers: []patient.Identifier{{System: "urn:oid:4.4", Value: "D"}}}
	p, err := env.Imports.ApplyReviewed(staff(), in, "")
	require.NoError(t, err)
	assert.Regexp(t, `^PF-`, p.MRN)
	same, err := env.Imports.ApplyReviewed(staff(), in, p.ID)
	require.NoError(t, err)
	assert.Equal(t, p.Version, same.Version, "nothing new: unchanged")
	in.Email, in.Phone = "not-an-email", "555-0100"
	up, err := env.Imports.ApplyReviewed(staff(), in, p.ID)
	require.NoError(t, err)
	assert.Equal(t, "555-0100", up.Phone)
	assert.Empty(t, up.Email, "the refused e-mail is dropped, the rest applied")
	_, err = env.Imports.ApplyReviewed(staff(), in, "p_nobody")
	assert.ErrorIs(t, err, patient.ErrNotFound)
	in.FirstName = ""
	_, err = env.Imports.ApplyReviewed(staff(), in, "")
	assert.Error(t, err, "a new patient needs a first name")
}

func TestWithoutReviewQueue(t *testing.T) {
	// Without a review queue, records a person would decide on are
	// rejected with the same reason, and quarantined.
	env := importertest.NewWithoutReview(t, storetest.New(t), nil, importer.Options{})
	nameless := `<Patient xmlns="http://hl7.org/fhir"><identifier><system value="urn:oid:1.1"/><value value="N"/></identifier><name><family value="Nobody"/></name></Patient>`
	job := run(t, env, importer.Input{Name: "n.xml", Data: []byte(nameless)},
		importer.Input{Name: "x.xml", Data: []byte(`<Patient xmlns="http://hl7.org/fhir"><name><family value="Who"/><given value="Dr"/></name></Patient>`)})
	for _, f := range job.Files {
		assert.Equal(t, importer.ResultRejected, f.Result, f.Name)
		assert.True(t, f.Quarantined, f.Name)
	}
	assert.Contains(t, job.Files[0].Detail, "no first name")
	assert.Contains(t, job.Files[1].Detail, "no identifier with a system")
}

// TestMixedBundle: one file, one record of each outcome; the file is
// created, says what was rejected and what waits, and stays in the
// quarantine for the rejected record.
func TestMixedBundle(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	entry := func(n int, inner string) string {
		return fmt.Sprintf(`<entry><fullUrl value="urn:uuid:%d"/><resource><Patient>%s</Patient></resource></entry>`, n, inner)
	}
	doc := `<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>` +
		entry(1, `<identifier><system value="urn:oid:7.7"/><value value="M-1"/></identifier><name><family value="Moss"/><given value="Mia"/></name>`) +
		entry(2, `<identifier><system value="urn:oid:7.7"/><value value="M-2"/></identifier><name><family value="Moss"/><given value="`+strings.Repeat("y", 120)+`"/></name>`) +
		entry(3, `<name><family value="Noid"/><given value="Nia"/></name>`) + `</Bundle>`
	job := run(t, env, importer.Input{Name: "mixed.xml", Data: []byte(doc)})
	f := job.Files[0]
	assert.Equal(t, importer.ResultCreated, f.Result)
	assert.True(t, f.Quarantined)
	assert.Contains(t, f.Detail, "1 of 3 records could not be imported")
	assert.Contains(t, f.Detail, "1 of 3 records wait for review")

	// A C-CDA patientRole without a patient element is the parser's
	// error: that record is rejected as it was.
	cda := `<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole><id root="1.2.3" extension="C-1"/></patientRole></recordTarget></ClinicalDocument>`
	job = run(t, env, importer.Input{Name: "bare.xml", Data: []byte(cda)})
	assert.Equal(t, importer.ResultRejected, job.Files[0].Result)
	assert.Contains(t, job.Files[0].Detail, "no patient element")
}
