package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/dashboard"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/store"
)

// TestReviewPage: the queue shows the document beside its candidate with
// the decisions as forms; reject resolves an item; auditors never see it.
// (Same person and new patient, which apply through the importer, are
// covered by core/review and web/tests/identity.test.mjs.)
func TestReviewPage(t *testing.T) {
	var queue *review.Queue
	f := newFixture(t, fixtureOpts{review: func(f *fixture, db *store.DB) dashboard.Reviews {
		queue = review.NewQueue(db, f.audit)
		return review.New(queue, f.patients, nil)
	}})
	sys := actor.System(context.Background())
	held, err := f.patients.Create(sys, patient.Input{MRN: "R-1", FirstName: "Theodora", LastName: "Vasquez", DateOfBirth: "1988-08-08", Sex: "female"})
	require.NoError(t, err)
	id, err := queue.Add(sys, review.Item{Reason: review.ReasonNoIdentifier, Message: "the record has no identifier", Source: "import:t.xml",
		Document: patient.Input{FirstName: "Theodora", LastName: "Vasquez", DateOfBirth: "1988-08-08", Sex: "female"}})
	require.NoError(t, err)

	c := f.client().login(staffEmail)
	r := c.get("/review")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, `id="review-`+id+`"`)
	assert.Contains(t, r.body, `href="/patients/`+held.ID+`"`)
	assert.Contains(t, r.body, "same_birth_date")
	assert.Contains(t, r.body, `name="patient_id" value="`+held.ID+`"`)
	assert.Contains(t, r.body, `href="/review" aria-current="page"`, "the nav links the page")

	// A refused decision shows why; reject empties the queue.
	r = c.post("/review/"+id+"/resolve", url.Values{"action": {"maybe"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="review-error"`)
	r = c.post("/review/"+id+"/resolve", url.Values{"action": {"reject"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.Equal(t, "/review?notice=reviewed", r.header.Get("Location"))
	r = c.get("/review?notice=reviewed")
	assert.Contains(t, r.body, "Review decision recorded.")
	assert.Contains(t, r.body, `id="review-empty"`)

	r = f.client().login(auditorEmail).get("/review")
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.NotContains(t, r.body, "Vasquez")
}

// TestNewPatientDuplicateWarning: the form lists the likely duplicates
// with links and creates the patient only on "Create anyway".
func TestNewPatientDuplicateWarning(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	held, err := f.patients.Create(actor.System(context.Background()), patient.Input{MRN: "D-1", FirstName: "Marguerite", LastName: "Okonkwo", DateOfBirth: "1971-04-12", Sex: "female"})
	require.NoError(t, err)
	c := f.client().login(staffEmail)
	c.get("/patients/new")
	form := url.Values{"mrn": {"D-2"}, "first_name": {"Marguerite"}, "last_name": {"Okonkwa"}, "date_of_birth": {"1971-04-12"}, "sex": {"female"}}
	r := c.post("/patients", form)
	require.Equal(t, http.StatusConflict, r.status, r.body)
	assert.Contains(t, r.body, `id="duplicates"`)
	assert.Contains(t, r.body, `href="/patients/`+held.ID+`"`)
	assert.Contains(t, r.body, "last_name_one_letter_apart")
	assert.Contains(t, r.body, `id="create-anyway"`)
	assert.Equal(t, 1, f.patients.Count())

	form.Set("confirm_duplicate", "1")
	r = c.post("/patients", form)
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.True(t, strings.Contains(r.header.Get("Location"), "notice=created"))
	assert.Equal(t, 2, f.patients.Count())
}
