package app

import (
	"github.com/pfinni/pfinni/core/api"
	"github.com/pfinni/pfinni/core/dashboard"
	"github.com/pfinni/pfinni/web"
)

// wirePages mounts the dashboard's pages on the server, under the base
// path, and makes errors of non-API routes render as pages. Services
// not built (nil) leave their pages answering "not available".
func (a *App) wirePages() {
	d := dashboard.Deps{
		Config: a.Config, Logger: a.Log, Templates: web.Templates(), Assets: web.Assets(),
		IdleTimeout: a.Config.SessionIdleTimeout,
	}
	if a.Auth != nil {
		d.Sessions, d.Users = a.Auth, a.Auth
		d.Passwords = a.Auth // one-time password links (email.go)
	}
	if a.Email != nil {
		d.Mail = a.Email
	}
	if a.Audit != nil {
		d.Audit = a.Audit
	}
	if a.Plugins != nil {
		d.Plugins = a.Plugins
	}
	if a.Patients != nil {
		d.Patients = a.Patients
	}
	if a.JobsAdmin != nil {
		d.Jobs = a.JobsAdmin
	}
	if a.Eligibility != nil {
		d.Eligibility = a.Eligibility
	}
	if a.Views != nil {
		d.Views = a.Views
	}
	if a.Review != nil {
		d.Review = a.Review
	}
	if a.Webhooks != nil {
		d.Webhooks = a.Webhooks
	}
	if a.Backups != nil {
		d.Backups = a.Backups
	}
	d.OpenAPI = api.OpenAPIDocument()
	db, err := dashboard.New(d)
	if err != nil {
		a.Log.Error("dashboard not mounted", "err", err)
		return
	}
	a.Server.SetPageErrors(db.RenderError)
	db.Mount(a.Server.Root())
}
