// Package httpauth is pfinni's one login layer for HTTP: it resolves the
// session cookie or bearer token of a request into the signed-in actor,
// checks the CSRF token of cookie-authenticated writes, holds the route
// × role table (Policy) and the checks every sign-in POST passes (Origin,
// where to go back to, whether the answer carries the bearer token).
//
// The JSON API (core/api) and the pages (core/dashboard) both use it, so
// a request is authenticated the same way whichever door it takes. The
// middleware only decides; each surface renders a refusal its own way
// (problem+json 401/403 for the API, a redirect to the sign-in page with
// the reason for the pages), telling the reasons apart with errors.Is on
// the errors of this package and of core/auth.
//
// Only core/api and core/dashboard import this package. A Middleware is
// safe for concurrent use.
package httpauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"mime"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/fault"
)

// CookieName is the session cookie, set by either sign-in (the API's
// and the pages') and read by both.
const CookieName = "pfinni_session"

// CSRFHeader carries the session's CSRF token on cookie-authenticated
// writes.
const CSRFHeader = "X-CSRF-Token"

const localSession = "httpauth.session"

// Refusals of the middleware; the session service's own reasons
// (auth.ErrNoSession, auth.ErrSessionIdle, ...) pass through unchanged.
var (
	// ErrSignInRequired: the route needs a signed-in user and the
	// request carries no credential.
	ErrSignInRequired = fault.New(fault.ErrUnauthorized, "sign in first (session cookie or Authorization: Bearer token)")
	// ErrBadAuthorization: an Authorization header that is not a bearer
	// token.
	ErrBadAuthorization = fault.New(fault.ErrUnauthorized, "the Authorization header must be: Bearer <token from POST /api/v1/auth/login>")
	// ErrCSRF: a write signed in by cookie without the session's CSRF
	// token.
	ErrCSRF = fault.New(fault.ErrForbidden, "missing or wrong "+CSRFHeader+" header: a write signed in by cookie must send the csrf_token from sign-in or GET /api/v1/auth/me")
	// ErrRoleDenied: the signed-in user's role may not use the route.
	ErrRoleDenied = fault.New(fault.ErrForbidden, "your role may not do this")
)

// Authenticator resolves a session token; *auth.Service implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Session, error)
}

// Config configures a Middleware.
type Config struct {
	// Sessions resolves tokens. Nil leaves every request anonymous.
	Sessions Authenticator
	// BasePath is the path the app is served under ("" for "/"): the
	// session cookie's path.
	BasePath string
	// SecureCookies is config.Config.SecureCookies: "always", "never" or
	// "auto" (when the request came over HTTPS).
	SecureCookies string
	// CSRFFormField, when set, also takes the CSRF token from this form
	// field of a form post (the pages' forms send "_csrf"); the header
	// is always accepted.
	CSRFFormField string
	// SignIn reports the sign-in routes: a stale or bad credential on
	// them is dropped (the request goes on anonymous) instead of refused,
	// so it does not stand in the way of signing in again.
	SignIn func(c *fiber.Ctx) bool
}

// Middleware authenticates requests.
type Middleware struct {
	cfg Config
}

// New returns the middleware for cfg.
func New(cfg Config) *Middleware { return &Middleware{cfg: cfg} }

// Authenticate resolves the bearer token (Authorization header) or else
// the session cookie into the request's session and actor, and checks
// the CSRF token of cookie-authenticated writes. A request without a
// credential goes on anonymous (the route decides with Require); a bad
// or ended one fails with the session service's reason (an ended cookie
// is cleared).
func (m *Middleware) Authenticate(c *fiber.Ctx) error {
	if m.cfg.Sessions == nil {
		return c.Next()
	}
	signIn := m.cfg.SignIn != nil && m.cfg.SignIn(c)
	token, viaCookie, err := Credential(c)
	if err != nil {
		if signIn {
			return c.Next()
		}
		return err
	}
	if token == "" {
		return c.Next()
	}
	sess, err := m.cfg.Sessions.Authenticate(c.UserContext(), token)
	if err != nil {
		if errors.Is(err, fault.ErrUnauthorized) && viaCookie {
			m.ClearCookie(c)
		}
		if signIn && errors.Is(err, fault.ErrUnauthorized) {
			return c.Next()
		}
		return err
	}
	if viaCookie && !signIn && unsafeMethod(c.Method()) {
		if !m.csrfOK(c, sess.CSRFToken) {
			return ErrCSRF
		}
	}
	c.Locals(localSession, sess)
	c.SetUserContext(actor.With(c.UserContext(), sess.Actor(actor.From(c.UserContext()))))
	return c.Next()
}

// SessionOf returns the request's session, when Authenticate found one.
func SessionOf(c *fiber.Ctx) (auth.Session, bool) {
	s, ok := c.Locals(localSession).(auth.Session)
	return s, ok
}

// Credential returns the request's bearer token, else its session
// cookie ("" for none), and ErrBadAuthorization for an Authorization
// header that is not a bearer token. Code that must re-check a session
// later (the chat WebSocket, on every frame) keeps the token it returns.
func Credential(c *fiber.Ctx) (token string, viaCookie bool, err error) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return "", false, ErrBadAuthorization
		}
		return tok, false, nil
	}
	if tok := c.Cookies(CookieName); tok != "" {
		return tok, true, nil
	}
	return "", false, nil
}

func (m *Middleware) csrfOK(c *fiber.Ctx, want string) bool {
	got := c.Get(CSRFHeader)
	if got == "" && m.cfg.CSRFFormField != "" && isForm(c) {
		got = c.FormValue(m.cfg.CSRFFormField)
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func isForm(c *fiber.Ctx) bool {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	return err == nil && (mt == fiber.MIMEApplicationForm || mt == fiber.MIMEMultipartForm)
}

func unsafeMethod(m string) bool {
	switch m {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return false
	}
	return true
}

// SetCookie sets the session cookie to token. A zero expires makes it a
// browser-session cookie.
func (m *Middleware) SetCookie(c *fiber.Ctx, token string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name: CookieName, Value: token, Path: m.cookiePath(), HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: m.secure(c), Expires: expires,
	})
}

// ClearCookie tells the browser to drop the session cookie.
func (m *Middleware) ClearCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: CookieName, Value: "", Path: m.cookiePath(), HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: m.secure(c), MaxAge: -1, Expires: time.Unix(0, 0),
	})
}

func (m *Middleware) cookiePath() string {
	if m.cfg.BasePath != "" {
		return m.cfg.BasePath
	}
	return "/"
}

// secure: always, never, or auto = when the request came over HTTPS.
func (m *Middleware) secure(c *fiber.Ctx) bool {
	switch m.cfg.SecureCookies {
	case "always":
		return true
	case "never":
		return false
	}
	return c.Protocol() == "https"
}
