package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/httpauth"
)

// PasswordLinks issues and redeems one-time password links;
// *auth.Service implements it.
type PasswordLinks interface {
	Invite(ctx context.Context, userID string) (auth.PasswordToken, error)
	RequestReset(ctx context.Context, email string) (auth.PasswordToken, bool, error)
	SetPasswordWithToken(ctx context.Context, token, password string) (auth.User, error)
}

// Mailer sends the links; *email.Service implements it.
type Mailer interface {
	Enabled() bool
	Invite(ctx context.Context, inv email.Inviter, userID string) (auth.PasswordToken, bool, error)
	ResetPassword(ctx context.Context, r email.Resetter, address string) error
	Preferences(ctx context.Context) (email.Preferences, error)
	SetPreferences(ctx context.Context, p email.Preferences) (email.Preferences, error)
}

// passwordView is the forgot-password and set-password pages' state.
type passwordView struct {
	Token  string
	Email  string
	Sent   bool // the forgot-password form was accepted
	Off    bool // e-mail is not set up
	Error  string
	Fields map[string]string
}

// bindPasswordPages binds the public pages that use one-time links.
func (db *Dashboard) bindPasswordPages(r fiber.Router) {
	if db.d.Passwords == nil {
		return
	}
	r.Get("/forgot-password", db.forgotPage)
	r.Post("/forgot-password", db.forgotSubmit)
	r.Get("/set-password", db.setPasswordPage)
	r.Post("/set-password", db.setPasswordSubmit)
	if db.d.Mail != nil {
		r.Get("/account/email", db.session, db.needUser, db.emailPrefs)
		r.Post("/account/email", db.session, db.needUser, db.emailPrefsSubmit)
	}
}

// emailPrefsView is the signed-in user's e-mail preferences page.
type emailPrefsView struct {
	Prefs   email.Preferences
	Allowed bool // admins and staff may receive the digest
	Off     bool // e-mail is not set up
	Saved   bool
}

func (db *Dashboard) emailPrefs(c *fiber.Ctx) error {
	p, err := db.d.Mail.Preferences(c.UserContext())
	if err != nil {
		return err
	}
	return db.renderEmailPrefs(c, fiber.StatusOK, emailPrefsView{Prefs: p, Saved: c.Query("saved") != ""})
}

func (db *Dashboard) renderEmailPrefs(c *fiber.Ctx, status int, v emailPrefsView) error {
	v.Off = !db.mailOn()
	if s, ok := sessionOf(c); ok {
		v.Allowed = s.User.Role == actor.RoleAdmin || s.User.Role == actor.RoleStaff
	}
	return db.render(c, status, "email_prefs", db.view(c, "E-mail", "email", v))
}

func (db *Dashboard) emailPrefsSubmit(c *fiber.Ctx) error {
	if _, err := db.d.Mail.SetPreferences(c.UserContext(), email.Preferences{DailyDigest: c.FormValue("daily_digest") != ""}); err != nil {
		var fields fault.Fields
		if errors.As(err, &fields) {
			return db.renderEmailPrefs(c, fiber.StatusUnprocessableEntity, emailPrefsView{})
		}
		return err
	}
	return c.Redirect(db.base+"/account/email?saved=1", fiber.StatusSeeOther)
}

func (db *Dashboard) mailOn() bool { return db.d.Mail != nil && db.d.Mail.Enabled() }

func (db *Dashboard) forgotPage(c *fiber.Ctx) error {
	return db.render(c, fiber.StatusOK, "forgot_password", db.view(c, "Forgot password", "login", passwordView{Off: !db.mailOn()}))
}

// forgotSubmit answers the same whether or not an account uses the
// address; too many requests are refused alike.
func (db *Dashboard) forgotSubmit(c *fiber.Ctx) error {
	if err := httpauth.CheckSignInOrigin(c, db.d.Config.PublicURL); err != nil {
		return err
	}
	pv := passwordView{Off: !db.mailOn()}
	if pv.Off {
		return db.render(c, fiber.StatusOK, "forgot_password", db.view(c, "Forgot password", "login", pv))
	}
	err := db.d.Mail.ResetPassword(c.UserContext(), db.d.Passwords, c.FormValue("email"))
	if errors.Is(err, auth.ErrResetThrottled) {
		pv.Error = messageOf(err)
		return db.render(c, http.StatusTooManyRequests, "forgot_password", db.view(c, "Forgot password", "login", pv))
	}
	if err != nil {
		return err
	}
	pv.Sent = true
	return db.render(c, fiber.StatusAccepted, "forgot_password", db.view(c, "Forgot password", "login", pv))
}

func (db *Dashboard) setPasswordPage(c *fiber.Ctx) error {
	// The token is in this page's URL: send it to no other site.
	c.Set("Referrer-Policy", "no-referrer")
	return db.render(c, fiber.StatusOK, "set_password", db.view(c, "Choose a password", "login", passwordView{Token: c.Query("token")}))
}

func (db *Dashboard) setPasswordSubmit(c *fiber.Ctx) error {
	c.Set("Referrer-Policy", "no-referrer")
	if err := httpauth.CheckSignInOrigin(c, db.d.Config.PublicURL); err != nil {
		return err
	}
	pv := passwordView{Token: c.FormValue("token")}
	pw := c.FormValue("password")
	if pw != c.FormValue("confirm") {
		pv.Fields = map[string]string{"confirm": "does not match the password"}
		pv.Error = "The two passwords differ."
		return db.render(c, fiber.StatusUnprocessableEntity, "set_password", db.view(c, "Choose a password", "login", pv))
	}
	_, err := db.d.Passwords.SetPasswordWithToken(c.UserContext(), pv.Token, pw)
	if err != nil {
		var fields fault.Fields
		status := fiber.StatusUnprocessableEntity
		switch {
		case errors.As(err, &fields):
			pv.Fields = fieldMap(fields)
			pv.Error = "Choose another password; see below."
		case errors.Is(err, auth.ErrTokenInvalid):
			status = fiber.StatusBadRequest
			pv.Error = messageOf(err)
			pv.Token = ""
		default:
			return err
		}
		return db.render(c, status, "set_password", db.view(c, "Choose a password", "login", pv))
	}
	return c.Redirect(db.base+"/login?why=password", fiber.StatusSeeOther)
}

// inviteURL is the absolute set-password link of token, shown to an admin
// when e-mail is off.
func (db *Dashboard) inviteURL(c *fiber.Ctx, token string) string {
	base := strings.TrimSuffix(db.d.Config.PublicURL, "/")
	if base == "" {
		base = c.BaseURL() + db.base
	}
	return base + "/set-password?" + url.Values{"token": {token}}.Encode()
}

// inviteCreated invites the user just created: e-mailed, or, with e-mail
// off, the one-time link shown to the admin once.
func (db *Dashboard) inviteCreated(c *fiber.Ctx, u auth.User, uv usersView) error {
	var (
		t    auth.PasswordToken
		sent bool
		err  error
	)
	if db.d.Mail != nil {
		t, sent, err = db.d.Mail.Invite(c.UserContext(), db.d.Passwords, u.ID)
	} else {
		t, err = db.d.Passwords.Invite(c.UserContext(), u.ID)
	}
	if err != nil {
		return err
	}
	if sent {
		return c.Redirect(db.base+"/admin/users?notice=invited", fiber.StatusSeeOther)
	}
	uv.InviteURL = db.inviteURL(c, t.Token)
	return db.renderUsers(c, fiber.StatusOK, uv)
}
