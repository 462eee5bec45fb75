package api

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/httpauth"
)

// SessionCookie is the name of the browser session cookie.
const SessionCookie = httpauth.CookieName

// CSRFHeader carries the session's CSRF token on cookie-authenticated
// writes.
const CSRFHeader = httpauth.CSRFHeader

// authenticate is the one login layer (core/httpauth) as the API uses
// it: the session cookie or bearer token becomes the actor of the
// request context, cookie-authenticated writes need the CSRF header. No
// credential leaves the request anonymous (the route decides with
// allow()); a bad or ended one is a 401 that says why.
func (s *Server) authenticate(c *fiber.Ctx) error { return s.login.Authenticate(c) }

// credential returns the bearer token, else the session cookie.
func credential(c *fiber.Ctx) (token string, viaCookie bool, err error) {
	return httpauth.Credential(c)
}

// newLoginLayer configures the login layer for the API.
func newLoginLayer(d Deps) *httpauth.Middleware {
	cfg := httpauth.Config{BasePath: d.Config.BasePath, SecureCookies: d.Config.SecureCookies,
		SignIn: func(c *fiber.Ctx) bool {
			// The password-link routes (email.go) are for people who are not signed in, like login.
			return strings.HasSuffix(c.Path(), "/api/v1/auth/login") || strings.Contains(c.Path(), "/api/v1/auth/password/")
		}}
	if d.Auth != nil {
		cfg.Sessions = d.Auth
	}
	return httpauth.New(cfg)
}

// bindAuthAPI binds sign-in, sign-out and "who am I".
func (s *Server) bindAuthAPI(r fiber.Router) {
	if s.deps.Auth == nil {
		return
	}
	r.Post("/auth/login", s.signIn)
	r.Post("/auth/logout", allow(anyUser), s.logout)
	r.Get("/auth/me", allow(anyUser), s.me)
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// Token asks for the bearer token in the answer even when the request
	// comes from a browser (which otherwise gets the cookie only).
	Token bool `json:"token"`
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

// signIn checks the credentials and opens a session: the cookie for
// browsers, and the bearer token in the answer for scripts. A browser
// gets the token only when it asks ("token": true): a cookie session
// needs none, and a token in a page's memory would undo HttpOnly. A
// sign-in a browser sends from another site is refused (login CSRF).
func (s *Server) signIn(c *fiber.Ctx) error {
	if err := httpauth.CheckSignInOrigin(c, s.cfg.PublicURL); err != nil {
		return err
	}
	var in loginRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	sess, err := s.deps.Auth.Login(c.UserContext(), in.Email, in.Password)
	if err != nil {
		if errors.Is(err, auth.ErrThrottled) {
			c.Set(fiber.HeaderRetryAfter, "60")
		}
		return err
	}
	s.login.SetCookie(c, sess.Token, time.Time{})
	c.Set(fiber.HeaderCacheControl, "no-store")
	out := sessionJSON(sess)
	if httpauth.FromBrowser(c) && !in.Token {
		out.Token = ""
	}
	return c.JSON(out)
}

func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.deps.Auth.Logout(c.UserContext(), actor.From(c.UserContext()).SessionID); err != nil {
		return err
	}
	s.login.ClearCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	sess, ok := httpauth.SessionOf(c)
	if !ok {
		return httpauth.ErrSignInRequired
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(sessionJSON(sess))
}

// Authenticate returns the authentication middleware for routes outside
// /api/v1 (the dashboard's pages and WebSocket), so they resolve the
// same cookie or bearer token and check CSRF the same way.
func (s *Server) Authenticate() fiber.Handler { return s.authenticate }
