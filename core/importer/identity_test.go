package importer_test

import (
	"fmt"
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
	doc := fmt.Sprintf(`<Patient xmlns="http://hl7.org/fhir"><identifier><system value="URN:OID:1.1.1"/><value value="12345"/></identifier>`+
		`<identifier><system value="urn:oid:2.2.2"/><value value="A-9"/></identifier>`+
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
