package dashboard

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/httpauth"
)

// loginView is the sign-in form's state.
type loginView struct {
	Email   string
	Next    string
	Error   string // the one message shown above the form
	Locked  bool
	Expired bool
	// SignedOut thanks the user after signing out.
	SignedOut bool
	// PasswordSet confirms a password chosen through a one-time link.
	PasswordSet bool
	// CanReset shows the forgot-password link.
	CanReset bool
	Fields   map[string]string
}

func (db *Dashboard) loginPage(c *fiber.Ctx) error {
	lv := loginView{Next: c.Query("next"), Expired: c.Query("why") == "expired", SignedOut: c.Query("why") == "signout",
		PasswordSet: c.Query("why") == "password", CanReset: db.d.Passwords != nil}
	if !safeNext(lv.Next) {
		lv.Next = ""
	}
	return db.render(c, fiber.StatusOK, "login", db.view(c, "Sign in", "login", lv))
}

// loginSubmit signs in with the form's email and password, sets the
// session cookie and goes to the page asked for (or the role's home). A
// form posted from another site is refused (login CSRF).
func (db *Dashboard) loginSubmit(c *fiber.Ctx) error {
	if db.d.Sessions == nil {
		return unavailable("sign-in")
	}
	if err := httpauth.CheckSignInOrigin(c, db.d.Config.PublicURL); err != nil {
		return err
	}
	lv := loginView{Email: c.FormValue("email"), Next: c.FormValue("next")}
	if !safeNext(lv.Next) {
		lv.Next = ""
	}
	s, err := db.d.Sessions.Login(c.UserContext(), lv.Email, c.FormValue("password"))
	if err != nil {
		status := http.StatusUnauthorized
		var fields fault.Fields
		switch {
		case errors.As(err, &fields):
			status = http.StatusUnprocessableEntity
			lv.Fields = fieldMap(fields)
			lv.Error = "Enter your email and password."
		case errors.Is(err, auth.ErrLocked):
			status = http.StatusLocked
			lv.Locked = true
			lv.Error = messageOf(err)
		case errors.Is(err, auth.ErrThrottled):
			status = http.StatusTooManyRequests
			lv.Error = messageOf(err)
		case errors.Is(err, auth.ErrBadCredentials):
			lv.Error = "The email or password is not right. Check both and try again."
		default:
			return err
		}
		return db.render(c, status, "login", db.view(c, "Sign in", "login", lv))
	}
	db.login.SetCookie(c, s.Token, s.ExpiresAt)
	to := lv.Next
	if to == "" {
		to = homeOf(s.User.Role)
	}
	return c.Redirect(db.base+to, fiber.StatusSeeOther)
}

// homeOf is where a role lands after sign-in.
func homeOf(r actor.Role) string {
	if r == actor.RoleAuditor {
		return "/audit"
	}
	return "/"
}

func (db *Dashboard) logout(c *fiber.Ctx) error {
	if s, ok := sessionOf(c); ok {
		if err := db.d.Sessions.Logout(c.UserContext(), s.ID); err != nil {
			return err
		}
	}
	db.login.ClearCookie(c)
	return c.Redirect(db.base+"/login?why=signout", fiber.StatusSeeOther)
}

// messageOf is the user-facing text of a domain error: the message the
// service wrote, without the operation prefixes it was wrapped in.
func messageOf(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil || isKind(u) {
			return err.Error()
		}
		err = u
	}
}

func isKind(err error) bool {
	for _, k := range []error{fault.ErrInvalid, fault.ErrNotFound, fault.ErrConflict, fault.ErrForbidden,
		fault.ErrUnauthorized, fault.ErrUnavailable, fault.ErrTooMany, fault.ErrTooLarge, fault.ErrLocked} {
		if err == k { //nolint:errorlint // identity with the kind sentinels
			return true
		}
	}
	return false
}

// fieldMap indexes per-field messages by field name.
func fieldMap(f fault.Fields) map[string]string {
	m := make(map[string]string, len(f))
	for _, e := range f {
		if _, dup := m[e.Field]; !dup {
			m[e.Field] = e.Message
		}
	}
	return m
}
