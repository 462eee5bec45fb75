package importer_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// TestApplyReviewedRefusedName: a reviewer's "same patient" decision on
// a record whose name pfinni refuses fails with the field's reason and
// leaves the patient as it was (a name is never dropped silently).
func TestApplyReviewedRefusedName(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	in := patient.Input{FirstName: "Rhea", LastName: "Vance", Sex: "female", Source: "import:r.xml",
		Identifiers: []patient.Identifier{{System: "urn:oid:4.4", Value: "R"}}}
	p, err := env.Imports.ApplyReviewed(staff(), in, "")
	require.NoError(t, err)

	in.LastName = strings.Repeat("v", 150)
	_, err = env.Imports.ApplyReviewed(staff(), in, p.ID)
	require.Error(t, err)
	assert.ErrorIs(t, err, fault.ErrInvalid)
	assert.ErrorContains(t, err, "apply reviewed record")
	again, err := env.Patients.Get(staff(), p.ID)
	require.NoError(t, err)
	assert.Equal(t, "Vance", again.LastName)
	assert.Equal(t, p.Version, again.Version)
}

// TestProviderFieldsRefused: a responsible provider whose NPI is not 10
// digits and whose organization name is too long is still recorded, by
// name, without those two fields (the kept document has them), and the
// patient is linked to it.
func TestProviderFieldsRefused(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	doc := `<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>
<entry><fullUrl value="urn:uuid:p1"/><resource><Patient><identifier><system value="urn:oid:8.8"/><value value="PR-1"/></identifier>
  <name><family value="Prov"/><given value="Pia"/></name><gender value="female"/><birthDate value="1970-02-02"/>
  <generalPractitioner><reference value="Practitioner/dr1"/></generalPractitioner>
  <managingOrganization><display value="` + strings.Repeat("Clinic ", 40) + `"/></managingOrganization></Patient></resource></entry>
<entry><fullUrl value="urn:uuid:dr1"/><resource><Practitioner><id value="dr1"/>
  <identifier><system value="http://hl7.org/fhir/sid/us-npi"/><value value="12345"/></identifier>
  <name><family value="Quill"/><given value="Nora"/></name></Practitioner></resource></entry>
</Bundle>`
	job := run(t, env, importer.Input{Name: "prov.xml", Data: []byte(doc)})
	f := job.Files[0]
	require.Equal(t, importer.ResultCreated, f.Result, f.Detail)
	p, err := env.Patients.Get(staff(), f.PatientIDs[0])
	require.NoError(t, err)
	require.NotEmpty(t, p.ProviderID, "linked to the provider")
	provs, err := env.Patients.ListProviders(staff())
	require.NoError(t, err)
	require.Len(t, provs, 1)
	assert.Equal(t, p.ProviderID, provs[0].ID)
	assert.Equal(t, "Nora Quill", provs[0].Name)
	assert.Empty(t, provs[0].NPI)
	assert.Empty(t, provs[0].Organization)
}

// TestDocumentLevelWarning: what the importer says about the document
// as a whole (a C-CDA without its namespace) is shown among the file's
// problems; the patient is imported.
func TestDocumentLevelWarning(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	job := run(t, env, importer.Input{Name: "bare.xml", Data: ccdaPatient("BN-1", "Bea", "Bare", true)})
	f := job.Files[0]
	require.Equal(t, importer.ResultCreated, f.Result, f.Detail)
	var messages []string
	for _, p := range f.Problems {
		messages = append(messages, p.Message)
	}
	assert.Contains(t, strings.Join(messages, "\n"), "has no namespace")
	_, err := env.Patients.GetByMRN(staff(), "BN-1")
	require.NoError(t, err)
}
