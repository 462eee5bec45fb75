// Package dashboard is pfinni's web dashboard: server-rendered pages
// (html/template, with htmx for partial updates) for staff, admins and
// auditors, the chat panel shell on every page, and the public project
// page at /repo. It serves the embedded front-end bundle of package web.
//
// Pages call the domain services directly, as the signed-in user: the
// page middleware resolves the session cookie into an actor.Actor and
// puts it in the request context, so the services check roles and audit
// exactly as they do for the JSON API. The role of each page is checked
// on the server too (an auditor typing an edit URL gets a 403 page, staff
// typing /admin gets a 403 page). Writes from forms carry the session's
// CSRF token.
//
// No PHI travels in URLs beyond record ids and the list's search text
// (the filter state lives in the URL by design); the htmx history cache
// is off so no page HTML is kept in localStorage.
//
// Only core/app imports this package. A Dashboard is safe for concurrent
// use once mounted.
package dashboard

import (
	"context"
	"html/template"
	"io/fs"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/httpauth"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin"
)

// Sessions signs people in and out and resolves session cookies;
// *auth.Service implements it.
type Sessions interface {
	Login(ctx context.Context, email, password string) (auth.Session, error)
	Authenticate(ctx context.Context, token string) (auth.Session, error)
	Logout(ctx context.Context, sessionID string) error
}

// Users is the admin's user management; *auth.Service implements it.
type Users interface {
	ListUsers(ctx context.Context) ([]auth.User, error)
	CreateUser(ctx context.Context, in auth.NewUser) (auth.User, error)
	UpdateUser(ctx context.Context, id string, patch auth.UserPatch) (auth.User, error)
}

// Patients is the patient and provider service as the pages use it;
// *patient.Service implements it.
type Patients interface {
	List(ctx context.Context, f patient.Filter) (patient.Page, error)
	Get(ctx context.Context, id string) (*patient.Patient, error)
	Create(ctx context.Context, in patient.Input) (*patient.Patient, error)
	CreateChecked(ctx context.Context, in patient.Input, confirmDuplicate bool) (*patient.Patient, error)
	Update(ctx context.Context, id string, version int, p patient.Patch) (*patient.Patient, error)
	ChangeStatus(ctx context.Context, id string, to patient.Status, reason string, version int) (*patient.Patient, error)
	History(ctx context.Context, id string) (patient.History, error)
	Stats(ctx context.Context, opts ...patient.StatsOptions) (patient.Stats, error)
	ListProviders(ctx context.Context) ([]patient.Provider, error)
	GetProvider(ctx context.Context, id string) (patient.Provider, error)
}

// AuditTrail is the audit log as the auditor's pages read it;
// *audit.Log implements it.
type AuditTrail interface {
	List(ctx context.Context, f audit.Filter) (audit.Page, error)
	Verify(ctx context.Context) (audit.Report, error)
}

// Plugins is the plugin registry as the admin's page uses it;
// *plugin.Registry implements it.
type Plugins interface {
	List() []plugin.Info
	Refused() []plugin.Info
	ManifestNotice() string
	Enable(ctx context.Context, name string) (plugin.Info, error)
	Disable(ctx context.Context, name string) (plugin.Info, error)
}

// Deps are what the dashboard needs. Config, Templates and Sessions are
// required; a nil service leaves its pages answering "not available".
type Deps struct {
	Config    *config.Config
	Logger    *slog.Logger
	Templates fs.FS // package web's Templates()
	Assets    fs.FS // package web's Assets(); may be empty
	Sessions  Sessions
	Users     Users
	Patients  Patients
	Audit     AuditTrail
	Plugins   Plugins
	// Eligibility, when set, adds the insurance check to the patient page.
	Eligibility Eligibility
	// Views, when set, shows the user's pinned saved views as counts on
	// the dashboard (pins.go).
	Views SavedViews
	// Jobs is the job queue's admin side (the Jobs page under Admin).
	Jobs JobsAdmin
	// Webhooks manages outgoing webhooks (the Webhooks page under Admin).
	Webhooks Webhooks
	// Backups makes and lists backups (the Backups page under Admin).
	Backups Backups
	// Review is the identity review queue (the Review page, review.go).
	Review Reviews
	// OpenAPI is the API's OpenAPI document, shown as the API reference
	// under Help (/help/api).
	OpenAPI []byte
	// Passwords and Mail, when set, add the forgot-password and
	// set-password pages and invitations on the Users page (passwords.go).
	Passwords PasswordLinks
	Mail      Mailer
	// IdleTimeout is the session's automatic logoff time, for the
	// warning shown before it (15 minutes when zero).
	IdleTimeout time.Duration
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Dashboard serves the pages.
type Dashboard struct {
	d      Deps
	base   string
	pages  map[string]*template.Template
	assets *assetSet
	repo   template.HTML
	login  *httpauth.Middleware // the one login layer, shared with the API
}

// New parses the templates and indexes the assets.
func New(d Deps) (*Dashboard, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.IdleTimeout <= 0 {
		d.IdleTimeout = 15 * time.Minute
	}
	db := &Dashboard{d: d, base: d.Config.BasePath, login: newLoginLayer(d)}
	var err error
	if db.assets, err = loadAssets(d.Assets); err != nil {
		return nil, err
	}
	if db.pages, err = parsePages(d.Templates, db.funcs()); err != nil {
		return nil, err
	}
	db.repo = db.assets.repoFragment()
	return db, nil
}

// Mount binds every page on r (the router under the base path).
func (db *Dashboard) Mount(r fiber.Router) {
	r.Get("/assets/:name", db.serveAsset)
	r.Get("/repo", db.repoPage)
	r.Get("/login", db.loginPage)
	r.Post("/login", db.loginSubmit)

	// Each page route names the session middleware itself: a Use on the
	// root would also catch the API's unmatched paths.
	r.Post("/logout", db.session, db.needUser, db.logout)
	r.Get("/", db.session, db.needUser, db.home)
	r.Get("/help", db.session, db.needUser, db.helpPage)
	r.Get("/help/api", db.session, db.needUser, db.apiReferencePage)
	r.Get("/activity", db.session, allow(adminPages), db.activity)
	db.bindPatients(r)
	db.bindEligibility(r)
	db.bindProviders(r)
	db.bindImports(r)
	db.bindReview(r)
	db.bindAudit(r)
	db.bindAdmin(r)
	db.bindJobs(r)
	db.bindWebhooks(r)
	db.bindBackups(r)
	db.bindPasswordPages(r)
}
