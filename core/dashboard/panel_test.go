package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/patient"
)

const providerEmail = "provider@example.org"

// providerUser adds the user providerEmail of the provider role, linked
// to provider id.
func (f *fixture) providerUser(id string) {
	f.t.Helper()
	_, err := f.auth.CreateUser(actor.System(context.Background()),
		auth.NewUser{Email: providerEmail, Name: "Pat Provider", Role: actor.RoleProvider, ProviderID: id, Password: password})
	require.NoError(f.t, err)
}

// panelOf returns the patients of provider id, and one patient outside it.
func panelOf(t *testing.T, f *fixture, id string) (patient.Page, *patient.Patient) {
	t.Helper()
	in, err := f.patients.List(staffCtx(f), patient.Filter{ProviderID: id, Limit: patient.MaxLimit})
	require.NoError(t, err)
	all, err := f.patients.List(staffCtx(f), patient.Filter{Limit: patient.MaxLimit})
	require.NoError(t, err)
	for _, p := range all.Items {
		if p.ProviderID != id {
			return in, p
		}
	}
	t.Fatal("every seeded patient has the same provider")
	return in, nil
}

var resultCount = regexp.MustCompile(`of <strong>([\d,]+)</strong> patients`)

func TestProviderPagesShowTheirPanel(t *testing.T) {
	f := newFixture(t, fixtureOpts{patients: 40})
	provs, err := f.patients.ListProviders(staffCtx(f))
	require.NoError(t, err)
	panel, outside := panelOf(t, f, provs[0].ID)
	require.NotZero(t, panel.Total)
	f.providerUser(provs[0].ID)
	c := f.client().login(providerEmail)

	r := c.get("/patients?limit=200")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `id="panel-note"`)
	assert.Contains(t, r.body, "Your panel: the patients of "+provs[0].Name)
	m := resultCount.FindStringSubmatch(r.body)
	require.Len(t, m, 2, r.body)
	assert.Equal(t, fmt.Sprint(panel.Total), m[1])
	assert.NotContains(t, r.body, outside.MRN)
	assert.NotContains(t, r.body, `id="panel-mine"`, "a provider has no panel checkbox: the list is the panel")
	assert.Contains(t, r.body, `id="export-csv"`)

	r = c.get("/")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, fmt.Sprintf(`<span class="stat-num">%d</span><span class="stat-label">All patients</span>`, panel.Total))

	r = c.get("/patients/" + outside.ID)
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.NotContains(t, r.body, outside.LastName)
	r = c.get("/patients/" + panel.Items[0].ID)
	assert.Equal(t, http.StatusOK, r.status)
	assert.NotContains(t, r.body, "Check eligibility", "providers do not run insurance checks")

	// A new patient starts in the provider's own panel.
	r = c.get("/patients/new")
	assert.Contains(t, r.body, `<option value="`+provs[0].ID+`" selected`)

	// The navigation offers what a provider may open.
	assert.Contains(t, r.body, `href="/patients"`)
	assert.NotContains(t, r.body, `href="/imports"`)
}

func TestStaffMyPanelCheckbox(t *testing.T) {
	f := newFixture(t, fixtureOpts{patients: 40})
	provs, err := f.patients.ListProviders(staffCtx(f))
	require.NoError(t, err)
	panel, _ := panelOf(t, f, provs[1].ID)
	admin := f.client().login(adminEmail)
	c := f.client().login(staffEmail)
	r := c.get("/patients")
	assert.NotContains(t, r.body, `id="panel-mine"`, "no checkbox before the user is linked")

	users, err := f.auth.ListUsers(actor.System(context.Background()))
	require.NoError(t, err)
	var staffID string
	for _, u := range users {
		if u.Email == staffEmail {
			staffID = u.ID
		}
	}
	r = admin.post("/admin/users/"+staffID, url.Values{"op": {"role"}, "role": {"staff"}, "provider_id": {provs[1].ID}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)

	r = c.get("/patients")
	assert.Contains(t, r.body, `id="panel-mine"`)
	assert.Contains(t, r.body, "My panel only")
	r = c.get("/patients?panel=mine&limit=200")
	require.Equal(t, http.StatusOK, r.status)
	assert.Regexp(t, `id="panel-mine" checked`, r.body)
	m := resultCount.FindStringSubmatch(r.body)
	require.Len(t, m, 2, r.body)
	assert.Equal(t, fmt.Sprint(panel.Total), m[1])
	assert.Contains(t, r.body, "panel=mine", "the export link keeps the panel")
}

func TestUsersPageLinksProviders(t *testing.T) {
	f := newFixture(t, fixtureOpts{patients: 10})
	provs, err := f.patients.ListProviders(staffCtx(f))
	require.NoError(t, err)
	c := f.client().login(adminEmail)
	r := c.get("/admin/users")
	assert.Contains(t, r.body, `<option value="provider"`)
	assert.Contains(t, r.body, `id="nu-provider"`)
	assert.Contains(t, r.body, provs[0].Name)

	r = c.post("/admin/users", url.Values{"name": {"Doc"}, "email": {"doc@example.org"}, "role": {"provider"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, "is required for the provider role")

	r = c.post("/admin/users", url.Values{"name": {"Doc"}, "email": {"doc@example.org"}, "role": {"provider"},
		"provider_id": {provs[0].ID}, "password": {"a-fine-long-password"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	u, err := f.auth.UserByEmail(actor.System(context.Background()), "doc@example.org")
	require.NoError(t, err)
	assert.Equal(t, provs[0].ID, u.ProviderID)
	r = c.get("/admin/users")
	assert.True(t, strings.Contains(r.body, `<option value="`+provs[0].ID+`" selected>`), "the user's link is shown")

	// The practice setting is shown with the running configuration.
	assert.Regexp(t, `providers_see_all[\s\S]*false`, c.get("/admin/settings").body)

	// Unlinking a provider is refused with the reason.
	r = c.post("/admin/users/"+u.ID, url.Values{"op": {"role"}, "role": {"provider"}, "provider_id": {""}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, "provider")
}
