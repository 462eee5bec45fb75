package dashboard_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/dashboard"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/views"
)

// staffActor is the fixture's staff user as the services see them.
func staffActor(t *testing.T, f *fixture) context.Context {
	t.Helper()
	users, err := f.auth.ListUsers(actor.System(context.Background()))
	require.NoError(t, err)
	for _, u := range users {
		if u.Email == staffEmail {
			return actor.With(context.Background(), actor.Actor{UserID: u.ID, Role: u.Role, RequestID: "pins-test"})
		}
	}
	t.Fatal("no staff user")
	return nil
}

// The dashboard shows each pinned view with the patient list's total for
// its query; views that are not pinned (or pinned by someone else) do not
// show.
func TestDashboardPinnedViews(t *testing.T) {
	var saved *views.Service
	f := newFixture(t, fixtureOpts{patients: 60, views: func(f *fixture, db *store.DB) dashboard.SavedViews {
		saved = views.New(db, f.audit, views.WithLocation(f.patients.Location()))
		return saved
	}})
	staff := staffActor(t, f)
	_, err := saved.Create(staff, views.Input{Name: "Onboarding pile", Query: "status=onboarding", Pinned: true})
	require.NoError(t, err)
	_, err = saved.Create(staff, views.Input{Name: "Not pinned", Query: "status=churned"})
	require.NoError(t, err)
	page, err := f.patients.List(staff, patient.Filter{Statuses: []patient.Status{patient.StatusOnboarding}, Limit: 1})
	require.NoError(t, err)

	r := f.client().login(staffEmail).get("/")
	require.Equal(t, http.StatusOK, r.status)
	m := regexp.MustCompile(`data-pinned-view="Onboarding pile"><a href="[^"]*status=onboarding"><span class="stat-num">([0-9,]+)</span>`).FindStringSubmatch(r.body)
	require.NotNil(t, m, "the pinned view is on the dashboard")
	assert.Equal(t, strconv.Itoa(page.Total), strings.ReplaceAll(m[1], ",", ""))
	assert.NotContains(t, r.body, "Not pinned")

	r = f.client().login(adminEmail).get("/")
	assert.NotContains(t, r.body, "Onboarding pile", "pins are the user's own")
}

// A merged-away patient's page leads to the kept record.
func TestMergedPatientPageRedirects(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	sys := actor.System(context.Background())
	keep, err := f.patients.Create(sys, patient.Input{MRN: "K-1", FirstName: "Ann", LastName: "Lee"})
	require.NoError(t, err)
	from, err := f.patients.Create(sys, patient.Input{MRN: "K-2", FirstName: "Bob", LastName: "Ray"})
	require.NoError(t, err)
	_, err = f.patients.Merge(sys, keep.ID, from.ID)
	require.NoError(t, err)

	c := f.client().login(staffEmail)
	r := c.get("/patients/" + from.ID)
	require.Equal(t, http.StatusFound, r.status)
	assert.Equal(t, "/patients/"+keep.ID+"?merged_from="+from.ID, r.header.Get("Location"))
	r = c.get("/patients/" + keep.ID)
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `data-dialog-open="merge-dialog"`, "staff may merge")
	assert.Contains(t, r.body, `data-merge-banner data-patient-id="`+keep.ID+`"`)
}
