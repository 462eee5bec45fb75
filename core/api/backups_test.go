package api

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/backup"
)

// POST /backups writes a backup (audited) and GET /backups lists it from
// its manifest; staff and auditors get problem details, not backups.
func TestBackupsAPI(t *testing.T) {
	env := newAuditEnv(t)
	dir := t.TempDir()
	env.srv = New(Deps{Logger: quiet, Config: testConfig(t), DB: env.db, Services: Services{
		Auth: env.srv.deps.Auth, Audit: env.log,
		Backups: backup.NewService(env.db, backup.Options{Dir: dir, Audit: env.log, Export: backup.ExportOptions{Version: "v-api"}}),
	}})
	app := env.srv.App()

	res, body := do(t, app, "GET", "/api/v1/backups", "", env.bearer(actor.RoleAdmin)...)
	require.Equal(t, 200, res.StatusCode, string(body))
	assert.JSONEq(t, `{"items":[]}`, string(body))

	res, body = do(t, app, "POST", "/api/v1/backups", "", env.bearer(actor.RoleAdmin)...)
	require.Equal(t, 201, res.StatusCode, string(body))
	var made backup.Info
	require.NoError(t, json.Unmarshal(body, &made))
	assert.Regexp(t, `^pfinni-\d{8}T\d{9}Z\.pfbak$`, made.Name)
	assert.Equal(t, "v-api", made.Version)
	assert.Positive(t, made.Records)
	assert.Len(t, made.Content, 64)

	res, body = do(t, app, "GET", "/api/v1/backups", "", env.bearer(actor.RoleAdmin)...)
	require.Equal(t, 200, res.StatusCode, string(body))
	var list struct{ Items []backup.Info }
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Items, 1)
	assert.Equal(t, made.Name, list.Items[0].Name)
	assert.Equal(t, made.Content, list.Items[0].Content)

	page, err := env.log.List(actor.System(context.Background()), audit.Filter{Action: "backup.create"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, "admin", page.Items[0].Role)

	for _, r := range []actor.Role{actor.RoleStaff, actor.RoleAuditor} {
		res, body := do(t, app, "POST", "/api/v1/backups", "", env.bearer(r)...)
		assert.Equal(t, 403, res.StatusCode, string(body))
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	}
}
