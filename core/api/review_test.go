package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/review"
)

// noIDDoc is a FHIR Patient without any identifier.
func noIDDoc(given, family, dob string) []byte {
	return []byte(fmt.Sprintf(`<Patient xmlns="http://hl7.org/fhir"><name><family value="%s"/><given value="%s"/></name>`+
		`<gender value="female"/><birthDate value="%s"/></Patient>`, family, given, dob))
}

// importForReview imports one document and returns its review item.
func (e *importEnv) importForReview(t *testing.T, name string, doc []byte) review.Entry {
	t.Helper()
	code, body := e.upload(t, actor.RoleStaff, map[string][]byte{name: doc})
	require.Equal(t, 202, code, string(body))
	var job importJSON
	require.NoError(t, json.Unmarshal(body, &job))
	job = e.wait(t, job.ID)
	require.Len(t, job.Files, 1)
	require.Equal(t, "needs_review", job.Files[0].Result)
	var list struct {
		Items []review.Entry `json:"items"`
	}
	require.Equal(t, 200, e.get(t, actor.RoleStaff, "/api/v1/review", &list))
	for _, it := range list.Items {
		if it.FileID == job.Files[0].ID {
			return it
		}
	}
	t.Fatalf("no review item for %s", name)
	return review.Entry{}
}

func (e *importEnv) resolve(t *testing.T, role actor.Role, id, body string, out any) int {
	t.Helper()
	res, b := do(t, e.srv.App(), "POST", "/api/v1/review/"+id+"/resolve", body, "Authorization", "Bearer "+e.tokens[role])
	if out != nil && res.StatusCode == 200 {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
	return res.StatusCode
}

func TestReviewResolve(t *testing.T) {
	e := newImportEnv(t)
	sys := actor.System(t.Context())
	ann, err := e.env.Patients.Create(sys, patient.Input{MRN: "P-1", FirstName: "Annabel", LastName: "Leeward", DateOfBirth: "1980-02-03", Sex: "female"})
	require.NoError(t, err)

	// A document without identifier that looks like Annabel: the
	// reviewer sees its demographics and Annabel as a candidate.
	item := e.importForReview(t, "ann.xml", noIDDoc("Annabel", "Leeward", "1980-02-03"))
	assert.Equal(t, review.ReasonNoIdentifier, item.Reason)
	assert.Equal(t, "Leeward", item.Document.LastName)
	require.NotEmpty(t, item.Candidates)
	assert.Equal(t, ann.ID, item.Candidates[0].ID)
	assert.Contains(t, item.Candidates[0].Reasons, patient.ReasonSameBirthDate)
	assert.Equal(t, "Annabel", item.Candidates[0].Patient.FirstName)

	// Auditors and anonymous callers never see the queue.
	assert.Equal(t, 403, e.get(t, actor.RoleAuditor, "/api/v1/review", nil))
	assert.Equal(t, 401, e.get(t, "", "/api/v1/review", nil))
	assert.Equal(t, 403, e.resolve(t, actor.RoleAuditor, item.ID, `{"action":"reject"}`, nil))

	// Bad requests change nothing.
	assert.Equal(t, 422, e.resolve(t, actor.RoleStaff, item.ID, `{"action":"maybe"}`, nil))
	assert.Equal(t, 422, e.resolve(t, actor.RoleStaff, item.ID, `{"action":"same"}`, nil), "same needs a patient_id")
	assert.Equal(t, 404, e.resolve(t, actor.RoleStaff, item.ID, `{"action":"same","patient_id":"p_nobody"}`, nil))
	assert.Equal(t, 404, e.resolve(t, actor.RoleStaff, "nosuchitem", `{"action":"reject"}`, nil))

	// same: the document is applied to Annabel ("merge" is an alias).
	var done review.Item
	require.Equal(t, 200, e.resolve(t, actor.RoleStaff, item.ID, `{"action":"merge","patient_id":"`+ann.ID+`"}`, &done))
	assert.Equal(t, review.StatusResolved, done.Status)
	assert.Equal(t, review.ActionSame, done.Action)
	assert.Equal(t, ann.ID, done.PatientID)
	assert.Equal(t, 409, e.resolve(t, actor.RoleStaff, item.ID, `{"action":"reject"}`, nil), "resolved once")
	total := e.env.Patients.Count()

	// new: a patient with a generated MRN.
	item = e.importForReview(t, "bea.xml", noIDDoc("Beatrix", "Quill", "1975-06-07"))
	require.Equal(t, 200, e.resolve(t, actor.RoleAdmin, item.ID, `{"action":"new"}`, &done))
	assert.Equal(t, review.ActionNew, done.Action)
	bea, err := e.env.Patients.Get(sys, done.PatientID)
	require.NoError(t, err)
	assert.Equal(t, "Quill", bea.LastName)
	assert.True(t, strings.HasPrefix(bea.MRN, "PF-"), bea.MRN)
	assert.Equal(t, total+1, e.env.Patients.Count())

	// reject: nothing is applied.
	item = e.importForReview(t, "cyd.xml", noIDDoc("Cydney", "Rowe", "1999-09-09"))
	done = review.Item{}
	require.Equal(t, 200, e.resolve(t, actor.RoleStaff, item.ID, `{"action":"reject"}`, &done))
	assert.Equal(t, review.ActionReject, done.Action)
	assert.Empty(t, done.PatientID)
	assert.Equal(t, total+1, e.env.Patients.Count())

	var list struct {
		Items []review.Entry `json:"items"`
	}
	require.Equal(t, 200, e.get(t, actor.RoleStaff, "/api/v1/review", &list))
	assert.Empty(t, list.Items, "every item was resolved")
}

func TestCreateDuplicateWarning(t *testing.T) {
	env := newPatientEnv(t, nil)
	ann := env.createAnn(t)
	// One letter of the surname apart, same birth date, another MRN.
	body := strings.Replace(strings.Replace(annJSON, `"Leeward"`, `"Leeware"`, 1), `"MRN-1"`, `"MRN-2"`, 1)
	res, b := do(t, env.srv.App(), "POST", "/api/v1/patients", body, env.as(actor.RoleStaff)...)
	require.Equal(t, 409, res.StatusCode, string(b))
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	var prob struct {
		Status     int                 `json:"status"`
		Detail     string              `json:"detail"`
		Duplicates []patient.Candidate `json:"duplicates"`
	}
	require.NoError(t, json.Unmarshal(b, &prob))
	assert.Equal(t, 409, prob.Status)
	require.NotEmpty(t, prob.Duplicates)
	assert.Equal(t, ann.ID, prob.Duplicates[0].ID)
	assert.Contains(t, prob.Duplicates[0].Reasons, patient.ReasonLastNameOneOff)
	assert.Contains(t, prob.Duplicates[0].Reasons, patient.ReasonSameBirthDate)
	assert.NotContains(t, string(b), "Leeward", "the answer names no patient data")
	assert.Equal(t, 1, env.svc.Count(), "nothing was created")

	// The same person with an impossible birth date: the field error
	// comes first (what the typist can fix), not the duplicate warning.
	badDate := strings.Replace(body, `"1984-02-29"`, `"1984-02-31"`, 1)
	require.NotEqual(t, body, badDate)
	res, b = do(t, env.srv.App(), "POST", "/api/v1/patients", badDate, env.as(actor.RoleStaff)...)
	require.Equal(t, 422, res.StatusCode, string(b))
	assert.Contains(t, string(b), "date_of_birth")
	assert.NotContains(t, string(b), "duplicates")

	// The same body, confirmed, creates the patient; the audit says so.
	confirmed := strings.Replace(body, `{"mrn"`, `{"confirm_duplicate":true,"mrn"`, 1)
	var p patient.Patient
	require.Equal(t, 201, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients", confirmed, &p))
	assert.Equal(t, "Leeware", p.LastName)
	assert.Equal(t, 2, env.svc.Count())
	require.Eventually(t, func() bool {
		page, err := env.log.List(actor.System(t.Context()), audit.Filter{Action: "patient.create", Record: p.ID})
		return err == nil && len(page.Items) == 1 && strings.Contains(page.Items[0].Detail, "confirm_duplicate")
	}, 2*time.Minute, 50*time.Millisecond, "the create is audited as a confirmed duplicate")

	// A patient unlike anybody is created without a warning.
	other := strings.NewReplacer(`"Annabel"`, `"Zoltan"`, `"Leeward"`, `"Kovacs"`, `"MRN-1"`, `"MRN-3"`, `"1984-02-29"`, `"1950-01-01"`,
		`"(212) 555-0142"`, `"(617) 555-0199"`, `"annabel@example.org"`, `"zk@example.org"`, `"9 Elm St"`, `"1 Oak Ave"`).Replace(annJSON)
	assert.Equal(t, 201, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients", other, nil))
}
