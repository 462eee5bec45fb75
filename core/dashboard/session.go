package dashboard

import (
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/httpauth"
)

// CookieName is the session cookie; the pages and the API share it (and
// the login layer that reads it, core/httpauth), so one sign-in serves
// both.
const CookieName = httpauth.CookieName

// csrfField is the hidden form field the pages' forms carry the
// session's CSRF token in (the X-CSRF-Token header works too).
const csrfField = "_csrf"

// newLoginLayer configures the login layer for the pages.
func newLoginLayer(d Deps) *httpauth.Middleware {
	cfg := httpauth.Config{BasePath: d.Config.BasePath, SecureCookies: d.Config.SecureCookies, CSRFFormField: csrfField}
	if d.Sessions != nil {
		cfg.Sessions = d.Sessions
	}
	return httpauth.New(cfg)
}

// sessionOf returns the request's session, set by the session middleware.
func sessionOf(c *fiber.Ctx) (auth.Session, bool) { return httpauth.SessionOf(c) }

// session is the login layer on a page route: it resolves the session
// cookie into the signed-in user and puts the actor into the request
// context, and checks the CSRF token of form posts. A refusal reaches
// RenderError, which sends a page request to the sign-in page (with
// where to come back to, and why).
func (db *Dashboard) session(c *fiber.Ctx) error {
	if db.d.Sessions == nil {
		return unavailable("sign-in")
	}
	return db.login.Authenticate(c)
}

// allow admits signed-in users whose role the policy allows (the one
// route × role table, httpauth.Policy); others get the 403 page, and
// nobody signed in goes to the sign-in page. The services check again.
func allow(p httpauth.Policy) fiber.Handler { return httpauth.Require(p) }

// The policies of the pages.
const (
	staffPages = httpauth.PatientData
	panelPages = httpauth.PanelData // patient records: staff, admins, providers
	adminPages = httpauth.AdminOnly
	auditPages = httpauth.AuditTrail
	anyone     = httpauth.SignedIn
)

// needUser is allow(anyone).
func (db *Dashboard) needUser(c *fiber.Ctx) error { return allow(anyone)(c) }

// signInReason is the why= of the sign-in page for a refused session:
// "expired" after the idle timeout, nothing otherwise.
func signInReason(err error) string {
	if errors.Is(err, auth.ErrSessionIdle) {
		return "expired"
	}
	return ""
}

// toLogin redirects to the sign-in page, remembering the page asked for.
func (db *Dashboard) toLogin(c *fiber.Ctx, why string) error {
	q := url.Values{}
	if c.Method() == fiber.MethodGet {
		if next := strings.TrimPrefix(c.OriginalURL(), db.base); httpauth.SafeNext(next) && next != "/" {
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

// safeNext reports whether next is a page of this app to go back to
// (httpauth.SafeNext).
func safeNext(next string) bool { return httpauth.SafeNext(next) }
