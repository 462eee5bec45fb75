package dashboard

import (
	"crypto/subtle"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/fault"
)

// CookieName is the session cookie core/auth's login API sets; the
// pages read the same cookie, so one sign-in serves both.
const CookieName = "pfinni_session"

const localSession = "dashboard.session"

// sessionOf returns the request's session, set by the session middleware.
func sessionOf(c *fiber.Ctx) (auth.Session, bool) {
	s, ok := c.Locals(localSession).(auth.Session)
	return s, ok
}

// session resolves the session cookie into the signed-in user and puts
// the actor into the request context. Without a valid session a page
// request is sent to the sign-in page (with where to come back to, and
// why: expired sessions say so).
func (db *Dashboard) session(c *fiber.Ctx) error {
	if db.d.Sessions == nil {
		return unavailable("sign-in")
	}
	token := c.Cookies(CookieName)
	if token == "" {
		return db.toLogin(c, "")
	}
	s, err := db.d.Sessions.Authenticate(c.UserContext(), token)
	if err != nil {
		if !strings.Contains(err.Error(), "inactivity") {
			return db.toLogin(c, "")
		}
		return db.toLogin(c, "expired")
	}
	c.Locals(localSession, s)
	c.SetUserContext(actor.With(c.UserContext(), s.Actor(actor.From(c.UserContext()))))
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		if err := checkCSRF(c, s.CSRFToken); err != nil {
			return err
		}
	}
	return c.Next()
}

// checkCSRF compares the form field _csrf or the X-CSRF-Token header
// with the session's token.
func checkCSRF(c *fiber.Ctx, want string) error {
	got := c.Get("X-CSRF-Token")
	if got == "" {
		got = c.FormValue("_csrf")
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fault.New(fault.ErrForbidden, "This form has expired (its security token did not match). Reload the page and try again.")
	}
	return nil
}

// toLogin redirects to the sign-in page, remembering the page asked for.
func (db *Dashboard) toLogin(c *fiber.Ctx, why string) error {
	q := url.Values{}
	if c.Method() == fiber.MethodGet {
		if next := strings.TrimPrefix(c.OriginalURL(), db.base); safeNext(next) && next != "/" {
			q.Set("next", next)
		}
	}
	if why != "" {
		q.Set("why", why)
	}
	to := db.base + "/login"
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", to)
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// safeNext admits only a local absolute path (no scheme, no host, no
// protocol-relative "//").
func safeNext(next string) bool {
	return strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, `\`)
}

// allow admits signed-in users whose role is listed; others get the 403
// page. The services check again.
func allow(roles ...actor.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		s, ok := sessionOf(c)
		if !ok {
			return fault.New(fault.ErrUnauthorized, "sign in first")
		}
		if !slices.Contains(roles, s.User.Role) {
			return fault.Newf(fault.ErrForbidden, "This page is not available to your role (%s).", s.User.Role)
		}
		return c.Next()
	}
}

// Role sets of the pages.
var (
	staffPages = []actor.Role{actor.RoleAdmin, actor.RoleStaff}
	adminPages = []actor.Role{actor.RoleAdmin}
	auditPages = []actor.Role{actor.RoleAdmin, actor.RoleAuditor}
	anyone     = []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor}
)

// needUser is allow(anyone).
func (db *Dashboard) needUser(c *fiber.Ctx) error { return allow(anyone...)(c) }

// setCookie sets (or, with an empty token, clears) the session cookie.
func (db *Dashboard) setCookie(c *fiber.Ctx, token string, expires time.Time) {
	p := db.base
	if p == "" {
		p = "/"
	}
	secure := db.d.Config.SecureCookies == "always" || (db.d.Config.SecureCookies == "auto" && c.Protocol() == "https")
	ck := &fiber.Cookie{Name: CookieName, Value: token, Path: p, HTTPOnly: true, Secure: secure, SameSite: fiber.CookieSameSiteLaxMode, Expires: expires}
	if token == "" {
		ck.Expires = time.Unix(0, 0)
		ck.MaxAge = -1
	}
	c.Cookie(ck)
}
