package api

import (
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/fault"
)

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "pfinni_session"

// CSRFHeader carries the session's CSRF token on cookie-authenticated
// writes.
const CSRFHeader = "X-CSRF-Token"

const localSession = "session"

// authenticate resolves the session cookie or bearer token into the actor
// of the request context, and checks CSRF on cookie-authenticated writes.
// No credential leaves the request anonymous (the route decides with
// allow()); a bad or expired one is a 401 that says why.
func (s *Server) authenticate(c *fiber.Ctx) error {
	if s.deps.Auth == nil {
		return c.Next()
	}
	token, viaCookie, err := credential(c)
	if err != nil {
		return err
	}
	if token == "" {
		return c.Next()
	}
	login := strings.HasSuffix(c.Path(), "/api/v1/auth/login")
	sess, err := s.deps.Auth.Authenticate(c.UserContext(), token)
	if err != nil {
		if errors.Is(err, fault.ErrUnauthorized) && viaCookie {
			s.clearSessionCookie(c)
			if login {
				return c.Next() // a stale cookie must not stand in the way of signing in
			}
		}
		return err
	}
	if viaCookie && !login && unsafeMethod(c.Method()) {
		sent := c.Get(CSRFHeader)
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(sess.CSRFToken)) != 1 {
			return fault.New(fault.ErrForbidden, "missing or wrong "+CSRFHeader+" header: a write signed in by cookie must send the csrf_token from sign-in or GET /api/v1/auth/me")
		}
	}
	c.Locals(localSession, sess)
	c.SetUserContext(actor.With(c.UserContext(), sess.Actor(actor.From(c.UserContext()))))
	return c.Next()
}

// credential returns the bearer token, else the session cookie.
func credential(c *fiber.Ctx) (token string, viaCookie bool, err error) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return "", false, fault.New(fault.ErrUnauthorized, "the Authorization header must be: Bearer <token from POST /api/v1/auth/login>")
		}
		return tok, false, nil
	}
	if tok := c.Cookies(SessionCookie); tok != "" {
		return tok, true, nil
	}
	return "", false, nil
}

func unsafeMethod(m string) bool {
	switch m {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return false
	}
	return true
}

// bindAuthAPI binds sign-in, sign-out and "who am I".
func (s *Server) bindAuthAPI(r fiber.Router) {
	if s.deps.Auth == nil {
		return
	}
	r.Post("/auth/login", s.login)
	r.Post("/auth/logout", allow(anyUser), s.logout)
	r.Get("/auth/me", allow(anyUser), s.me)
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// userBrief is the signed-in user as the session answers show it.
type userBrief struct {
	ID    string     `json:"id"`
	Email string     `json:"email"`
	Name  string     `json:"name"`
	Role  actor.Role `json:"role"`
}

type sessionResponse struct {
	Token              string    `json:"token,omitempty"`
	User               userBrief `json:"user"`
	CSRFToken          string    `json:"csrf_token"`
	ExpiresAt          time.Time `json:"expires_at"`
	IdleTimeoutSeconds int       `json:"idle_timeout_seconds"`
}

func sessionJSON(sess auth.Session) sessionResponse {
	return sessionResponse{
		Token:              sess.Token,
		User:               userBrief{ID: sess.User.ID, Email: sess.User.Email, Name: sess.User.Name, Role: sess.User.Role},
		CSRFToken:          sess.CSRFToken,
		ExpiresAt:          sess.ExpiresAt,
		IdleTimeoutSeconds: int(sess.IdleTimeout / time.Second),
	}
}

func (s *Server) login(c *fiber.Ctx) error {
	var in loginRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	sess, err := s.deps.Auth.Login(c.UserContext(), in.Email, in.Password)
	if err != nil {
		if errors.Is(err, fault.ErrTooMany) {
			c.Set(fiber.HeaderRetryAfter, "60")
		}
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name:     SessionCookie,
		Value:    sess.Token,
		Path:     s.cookiePath(),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   s.secureCookie(c),
	})
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(sessionJSON(sess))
}

func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.deps.Auth.Logout(c.UserContext(), actor.From(c.UserContext()).SessionID); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	sess, ok := c.Locals(localSession).(auth.Session)
	if !ok {
		return fault.New(fault.ErrUnauthorized, "sign in first")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(sessionJSON(sess))
}

func (s *Server) cookiePath() string {
	if s.cfg.BasePath != "" {
		return s.cfg.BasePath
	}
	return "/"
}

// secureCookie: always, never, or auto = when the request came over
// HTTPS (directly or, behind a proxy, by X-Forwarded-Proto).
func (s *Server) secureCookie(c *fiber.Ctx) bool {
	switch s.cfg.SecureCookies {
	case "always":
		return true
	case "never":
		return false
	}
	return c.Protocol() == "https"
}

func (s *Server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name:     SessionCookie,
		Value:    "",
		Path:     s.cookiePath(),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   s.secureCookie(c),
		MaxAge:   -1,
		Expires:  time.Unix(0, 0),
	})
}

// Authenticate returns the authentication middleware for routes outside
// /api/v1 (the dashboard's pages and WebSocket), so they resolve the
// same cookie or bearer token and check CSRF the same way.
func (s *Server) Authenticate() fiber.Handler { return s.authenticate }
