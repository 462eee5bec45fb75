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
	"github.com/pfinni/pfinni/core/eligibility"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/internal/testkit/eligibilitytest"
)

// The patient page's "Check eligibility" button runs a real check (the
// insurance-x12 plugin process against the stub insurer) and the page
// then shows the latest result in plain words.
func TestPatientPageEligibility(t *testing.T) {
	ins := eligibilitytest.Start(t, eligibilitytest.Options{})
	f := newFixture(t, fixtureOpts{eligibility: func(f *fixture, db *store.DB) dashboard.Eligibility {
		svc, err := eligibility.New(eligibility.Deps{DB: db, Patients: f.patients, Checker: ins.Registry, Audit: f.audit}, eligibility.Options{})
		require.NoError(t, err)
		return svc
	}})
	sys := actor.System(context.Background())
	mk := func(mrn, payer, member string) string {
		p, err := f.patients.Create(sys, patient.Input{MRN: mrn, FirstName: "Janelle", LastName: "Quixote", DateOfBirth: "1980-02-29",
			Insurance: patient.Insurance{Payer: payer, MemberID: member}})
		require.NoError(t, err)
		return p.ID
	}
	active, notFound, bare := mk("E-1", "Acme Health", "ACT900"), mk("E-2", "Acme Health", "NF900"), mk("E-3", "", "")
	c := f.client().login(staffEmail)

	r := c.get("/patients/" + active)
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, "Check eligibility")
	assert.Contains(t, r.body, "Not checked yet.")

	r = c.post("/patients/"+active+"/eligibility", nil)
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.True(t, strings.HasSuffix(r.header.Get("Location"), "/patients/"+active+"#eligibility"))
	r = c.get("/patients/" + active)
	assert.Contains(t, r.body, `data-eligibility-status="active"`)
	assert.Contains(t, r.body, "Covered")
	assert.Contains(t, r.body, "STUB GOLD PPO")
	assert.Contains(t, r.body, "2026-01-01 to 2026-12-31")
	assert.Contains(t, r.body, "co-pay $20.00, in network")
	assert.NotContains(t, r.body, "Not checked yet.")

	c.get("/patients/" + notFound)
	c.post("/patients/"+notFound+"/eligibility", nil)
	r = c.get("/patients/" + notFound)
	assert.Contains(t, r.body, "Not found by the insurer")
	assert.Contains(t, r.body, "The payer has no subscriber with this member id (correct and resubmit)")

	c.get("/patients/" + bare)
	r = c.post("/patients/"+bare+"/eligibility", nil)
	require.Equal(t, http.StatusSeeOther, r.status)
	loc, err := url.Parse(r.header.Get("Location"))
	require.NoError(t, err)
	r = c.get(strings.TrimPrefix(loc.RequestURI(), f.base))
	assert.Contains(t, r.body, "Add the patient&#39;s insurance payer and member id")

	// An auditor has no patient pages, and no check.
	a := f.client().login(auditorEmail)
	r = a.post("/patients/"+active+"/eligibility", nil)
	assert.Equal(t, http.StatusForbidden, r.status)
}
