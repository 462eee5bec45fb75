package dashboard

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin"
)

func (db *Dashboard) bindAdmin(r fiber.Router) {
	admin := allow(adminPages)
	r.Get("/admin", db.session, admin, func(c *fiber.Ctx) error {
		return c.Redirect(db.base+"/admin/users", fiber.StatusSeeOther)
	})
	r.Get("/admin/users", db.session, admin, db.users)
	r.Post("/admin/users", db.session, admin, db.userCreate)
	r.Post("/admin/users/:id", db.session, admin, db.userUpdate)
	r.Get("/admin/plugins", db.session, admin, db.plugins)
	r.Post("/admin/plugins/:name/:op", db.session, admin, db.pluginToggle)
	r.Get("/admin/settings", db.session, admin, db.settings)
}

// usersView is the users and roles page.
type usersView struct {
	Users     []auth.User
	Roles     []actor.Role
	Providers []patient.Provider // whom a user may be linked to (provider_id)
	New       auth.NewUser
	Fields    map[string]string
	Error     string
	Generated string // a password made up for a new user or a reset, shown once
	For       string // whose password Generated is
	// CanInvite offers the invitation checkbox; InviteURL is the one-time
	// link shown once when e-mail is off (passwords.go).
	CanInvite bool
	InviteURL string
}

func (db *Dashboard) renderUsers(c *fiber.Ctx, status int, uv usersView) error {
	if db.d.Users == nil {
		return unavailable("users")
	}
	us, err := db.d.Users.ListUsers(c.UserContext())
	if err != nil {
		return err
	}
	uv.Users = us
	uv.Roles = []actor.Role{actor.RoleStaff, actor.RoleProvider, actor.RoleAdmin, actor.RoleAuditor}
	if db.d.Patients != nil {
		if uv.Providers, err = db.d.Patients.ListProviders(c.UserContext()); err != nil {
			return err
		}
	}
	uv.CanInvite = db.d.Passwords != nil
	return db.render(c, status, "users", db.view(c, "Users and roles", "users", uv))
}

func (db *Dashboard) users(c *fiber.Ctx) error { return db.renderUsers(c, fiber.StatusOK, usersView{}) }

// userCreate creates a user; with no password given, one is generated
// and shown once.
func (db *Dashboard) userCreate(c *fiber.Ctx) error {
	if db.d.Users == nil {
		return unavailable("users")
	}
	in := auth.NewUser{Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")),
		Role: actor.Role(c.FormValue("role")), ProviderID: c.FormValue("provider_id"), Password: c.FormValue("password")}
	uv := usersView{New: in}
	invite := c.FormValue("invite") != "" && db.d.Passwords != nil
	if invite && in.Password == "" {
		// Nobody knows this password: the invitation link replaces it.
		pw, err := auth.GeneratePassword()
		if err != nil {
			return err
		}
		in.Password = pw
	} else if in.Password == "" {
		pw, err := auth.GeneratePassword()
		if err != nil {
			return err
		}
		in.Password, uv.Generated = pw, pw
	}
	u, err := db.d.Users.CreateUser(c.UserContext(), in)
	if err != nil {
		uv.Generated = ""
		uv.New.Password = ""
		var fields fault.Fields
		switch {
		case errors.As(err, &fields):
			uv.Fields = fieldMap(fields)
			uv.Error = "The new user needs attention; see the messages below the fields."
		case errors.Is(err, fault.ErrConflict), errors.Is(err, fault.ErrInvalid):
			uv.Error = messageOf(err)
		default:
			return err
		}
		return db.renderUsers(c, fiber.StatusUnprocessableEntity, uv)
	}
	uv.New = auth.NewUser{}
	uv.For = u.Email
	if invite {
		return db.inviteCreated(c, u, uv)
	}
	if uv.Generated == "" {
		return c.Redirect(db.base+"/admin/users?notice=user", fiber.StatusSeeOther)
	}
	return db.renderUsers(c, fiber.StatusOK, uv)
}

// userUpdate changes one user: role, disabled, or a password reset
// (the form's op field says which).
func (db *Dashboard) userUpdate(c *fiber.Ctx) error {
	if db.d.Users == nil {
		return unavailable("users")
	}
	var patch auth.UserPatch
	uv := usersView{}
	switch c.FormValue("op") {
	case "role": // the role and the provider link, set together
		r, link := actor.Role(c.FormValue("role")), c.FormValue("provider_id")
		patch.Role, patch.ProviderID = &r, &link
	case "disable", "enable":
		d := c.FormValue("op") == "disable"
		patch.Disabled = &d
	case "reset":
		pw, err := auth.GeneratePassword()
		if err != nil {
			return err
		}
		patch.Password, uv.Generated = &pw, pw
	default:
		return fault.New(fault.ErrInvalid, "unknown user change")
	}
	u, err := db.d.Users.UpdateUser(c.UserContext(), c.Params("id"), patch)
	if err != nil {
		if !errors.Is(err, fault.ErrInvalid) && !errors.Is(err, fault.ErrConflict) {
			return err
		}
		return db.renderUsers(c, fiber.StatusUnprocessableEntity, usersView{Error: messageOf(err)})
	}
	if uv.Generated != "" {
		uv.For = u.Email
		return db.renderUsers(c, fiber.StatusOK, uv)
	}
	return c.Redirect(db.base+"/admin/users?notice=user", fiber.StatusSeeOther)
}

// pluginsView is the plugins page.
type pluginsView struct {
	Plugins []plugin.Info // installed, then the manifest entries refused at start
	Error   string
	Notice  string // the manifest changed since start: restart to apply
}

func (db *Dashboard) pluginsView(errMsg string) pluginsView {
	return pluginsView{Plugins: append(db.d.Plugins.List(), db.d.Plugins.Refused()...), Error: errMsg, Notice: db.d.Plugins.ManifestNotice()}
}

func (db *Dashboard) plugins(c *fiber.Ctx) error {
	if db.d.Plugins == nil {
		return unavailable("plugin")
	}
	return db.render(c, fiber.StatusOK, "plugins", db.view(c, "Plugins", "plugins", db.pluginsView("")))
}

// pluginToggle enables or disables a plugin at runtime.
func (db *Dashboard) pluginToggle(c *fiber.Ctx) error {
	if db.d.Plugins == nil {
		return unavailable("plugin")
	}
	name := c.Params("name")
	var err error
	switch c.Params("op") {
	case "enable":
		_, err = db.d.Plugins.Enable(c.UserContext(), name)
	case "disable":
		_, err = db.d.Plugins.Disable(c.UserContext(), name)
	default:
		return fiber.ErrNotFound
	}
	if err != nil {
		if errors.Is(err, plugin.ErrNotFound) {
			return fault.New(fault.ErrNotFound, "no such plugin")
		}
		status := fiber.StatusUnprocessableEntity
		if errors.Is(err, plugin.ErrRefused) {
			status = fiber.StatusConflict
		}
		return db.render(c, status, "plugins", db.view(c, "Plugins", "plugins", db.pluginsView(messageOf(err))))
	}
	return c.Redirect(db.base+"/admin/plugins?notice=plugin#plugin-"+url.PathEscape(name), fiber.StatusSeeOther)
}

// setting is one row of the settings page.
type setting struct{ Key, Value, Help string }

// settings shows the running configuration, secrets masked.
func (db *Dashboard) settings(c *fiber.Ctx) error {
	cfg := db.d.Config
	mask := func(s string) string {
		if s == "" {
			return "(not set)"
		}
		return "•••••• (set)"
	}
	or := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	rows := []setting{
		{"base_path", or(cfg.BasePath, "(root)"), "path prefix the app is served under"},
		{"http_addr", cfg.HTTPAddr, "address the server listens on"},
		{"database", or(cfg.DBURL, "embedded engine in "+cfg.DataDir), "SurrealDB in use"},
		{"db_namespace / db_database", cfg.DBNamespace + " / " + cfg.DBDatabase, "SurrealDB namespace and database"},
		{"session_idle_timeout", cfg.SessionIdleTimeout.String(), "automatic logoff after inactivity"},
		{"session_max_lifetime", cfg.SessionMaxLifetime.String(), "absolute session length"},
		{"login_max_failures", formatInt(cfg.LoginMaxFailures), "failed sign-ins before a lockout"},
		{"lockout_duration", cfg.LockoutDuration.String(), "how long a lockout lasts"},
		{"api_rate_limit", formatInt(cfg.APIRateLimit) + " / min", "API requests per client"},
		{"secure_cookies", cfg.SecureCookies, "Secure flag on the session cookie"},
		{"plugins_manifest", cfg.PluginsManifest, "installed plugins"},
		{"import_max_bytes", formatInt(cfg.ImportMaxBytes), "largest import document"},
		{"providers_see_all", strconv.FormatBool(cfg.ProvidersSeeAll), "providers may open patients outside their own panel (off: 404)"},
		{"llm_url", or(cfg.LLMURL, "(off)"), "optional LLM endpoint for the assistant (never receives PHI)"},
		{"llm_key", mask(cfg.LLMKey), "LLM API key"},
		{"resend_api_key", mask(cfg.ResendAPIKey), "Resend API key; e-mail is off when not set"},
		{"resend_base_url", or(cfg.ResendBaseURL, "https://api.resend.com/"), "Resend API (or the stub of pfinni dev email-stub)"},
		{"email_from", cfg.EmailFrom, "sender of pfinni's e-mails"},
		{"alert_onboarding_days", formatInt(cfg.AlertOnboardingDays) + " days", "a patient in onboarding longer than this raises one alert"},
		{"alert_onboarding_cron", cfg.AlertOnboardingCron, "when the onboarding alert rule runs"},
		{"alert_birthday_cron", cfg.AlertBirthdayCron, "when today's birthday alerts are raised (practice time)"},
		{"log_level", cfg.LogLevel, "log level"},
	}
	return db.render(c, fiber.StatusOK, "settings", db.view(c, "Settings", "settings", rows))
}
