package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/api"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/dashboard"
	"github.com/pfinni/pfinni/core/store"
)

// The Backups page under Admin lists the backups in the folder from
// their manifests (a damaged file says so), and "Back up now" writes one
// (audited); staff and auditors are refused.
func TestBackupsPage(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, fixtureOpts{patients: 5, backups: func(f *fixture, d *store.DB) dashboard.Backups {
		return backup.NewService(d, backup.Options{Dir: dir, Keep: 3, Audit: f.audit, Export: backup.ExportOptions{Version: "v-test"}})
	}})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pfinni-broken.pfbak"), []byte("not a backup"), 0o600))

	admin := f.client().login(adminEmail)
	r := admin.get("/admin/backups")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, dir)
	assert.Contains(t, r.body, "Not readable as a backup")
	assert.Contains(t, r.body, "Back up now")

	r = admin.post("/admin/backups", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	page := admin.get(r.header.Get("Location")[len(f.base):])
	require.Equal(t, http.StatusOK, page.status)
	assert.Contains(t, page.body, "written.")
	assert.Contains(t, page.body, "v-test")
	assert.Regexp(t, `data-backup="pfinni-\d{8}T\d{9}Z\.pfbak"`, page.body)

	events, err := f.audit.List(actor.System(context.Background()), audit.Filter{Action: "backup.create"})
	require.NoError(t, err)
	require.Len(t, events.Items, 1)
	assert.Equal(t, audit.OutcomeSuccess, events.Items[0].Outcome)

	for _, who := range []string{staffEmail, auditorEmail} {
		c := f.client().login(who)
		assert.Equal(t, http.StatusForbidden, c.get("/admin/backups").status, who)
		assert.Equal(t, http.StatusForbidden, c.post("/admin/backups", url.Values{}).status, who)
	}
}

// Without a backup service the page says it is not available.
func TestBackupsPageUnavailable(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	r := f.client().login(adminEmail).get("/admin/backups")
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
}

// The API reference under Help renders the API's own OpenAPI document:
// every operation with its method, path, roles and responses, for any
// signed-in user, and is linked from the help page.
func TestAPIReferencePage(t *testing.T) {
	f := newFixture(t, fixtureOpts{openapi: api.OpenAPIDocument()})
	for _, who := range []string{adminEmail, staffEmail, auditorEmail} {
		c := f.client().login(who)
		r := c.get("/help/api")
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.Contains(t, r.body, `data-op="GET /api/v1/patients"`)
		assert.Contains(t, r.body, `data-op="POST /api/v1/auth/login"`)
		assert.Contains(t, r.body, `id="api-patients"`)
		assert.Regexp(t, `(?s)data-op="GET /api/v1/users".*?admin</td>`, r.body, "roles are shown")
		assert.Contains(t, r.body, "An error")
		assert.Contains(t, c.get("/help").body, "/help/api")
	}
	assert.Equal(t, http.StatusServiceUnavailable, newFixture(t, fixtureOpts{}).client().login(adminEmail).get("/help/api").status)
}
