package api

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/httpauth"
)

// bindEmailAPI binds the one-time password links (forgot password, set
// password: public), invitations, the suppression list (admins) and the
// signed-in user's e-mail preferences. See docs/email.md.
func (s *Server) bindEmailAPI(r fiber.Router) {
	if s.deps.Auth == nil {
		return
	}
	r.Post("/auth/password/forgot", s.forgotPassword)
	r.Post("/auth/password/set", s.setPassword)
	r.Post("/users/:id/invite", allow(adminOnly), s.inviteUser)
	if s.deps.Email == nil {
		return
	}
	// Resend's bounce and complaint webhooks: no session, the
	// signature is the authentication (core/email events.go).
	r.Post("/email/events", s.receiveEmailEvent)
	r.Get("/email/suppressions", allow(adminOnly), s.listSuppressions)
	r.Post("/email/suppressions", allow(adminOnly), s.addSuppression)
	r.Delete("/email/suppressions/:address", allow(adminOnly), s.removeSuppression)
	r.Get("/email/preferences", allow(anyUser), s.getEmailPreferences)
	r.Put("/email/preferences", allow(anyUser), s.putEmailPreferences)
}

// ForgotPasswordAnswer is the one answer of POST /auth/password/forgot,
// whether or not an account uses the address.
const ForgotPasswordAnswer = "If an account uses this address, a link to choose a new password is on its way; it works once, for 1 hour."

func (s *Server) forgotPassword(c *fiber.Ctx) error {
	if err := httpauth.CheckSignInOrigin(c, s.cfg.PublicURL); err != nil {
		return err
	}
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.deps.Email.ResetPassword(c.UserContext(), s.deps.Auth, in.Email); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"message": ForgotPasswordAnswer})
}

func (s *Server) setPassword(c *fiber.Ctx) error {
	if err := httpauth.CheckSignInOrigin(c, s.cfg.PublicURL); err != nil {
		return err
	}
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if _, err := s.deps.Auth.SetPasswordWithToken(c.UserContext(), in.Token, in.Password); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// InviteInfo says how an invitation reaches the user: e-mailed (Sent),
// or, with e-mail off, the one-time link (URL) for the admin to hand over.
type InviteInfo struct {
	Sent      bool      `json:"sent"`
	URL       string    `json:"url,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) inviteUser(c *fiber.Ctx) error {
	info, err := s.invite(c, c.Params("id"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(info)
}

// invite issues an invitation for user id and queues its e-mail, or,
// with e-mail off, returns the link for the admin.
func (s *Server) invite(c *fiber.Ctx, id string) (InviteInfo, error) {
	t, sent, err := s.deps.Email.Invite(c.UserContext(), s.deps.Auth, id)
	if err != nil {
		return InviteInfo{}, err
	}
	if sent {
		return InviteInfo{Sent: true, ExpiresAt: t.ExpiresAt}, nil
	}
	return InviteInfo{URL: s.SetPasswordURL(c, t.Token), ExpiresAt: t.ExpiresAt}, nil
}

// SetPasswordURL is the absolute link of the set-password page for token.
func (s *Server) SetPasswordURL(c *fiber.Ctx, token string) string {
	base := strings.TrimSuffix(s.cfg.PublicURL, "/")
	if base == "" {
		base = c.BaseURL() + s.cfg.BasePath
	}
	return base + "/set-password?" + url.Values{"token": {token}}.Encode()
}

// receiveEmailEvent takes one signed Resend event: 200 {type,
// suppressed} once applied or ignored, 400 when the signature does not
// verify, 413 over email.MaxEventBody, 404 when no secret is set.
func (s *Server) receiveEmailEvent(c *fiber.Ctx) error {
	h := http.Header{}
	for k, vs := range c.GetReqHeaders() {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	ev, err := s.deps.Email.ReceiveProviderEvent(c.UserContext(), rawBody(c), h)
	if err != nil {
		return err
	}
	return c.JSON(ev)
}

func (s *Server) listSuppressions(c *fiber.Ctx) error {
	items, err := s.deps.Email.Suppressions(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "total": len(items)})
}

func (s *Server) addSuppression(c *fiber.Ctx) error {
	var in struct {
		Email  string `json:"email"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.deps.Email.Suppress(c.UserContext(), in.Email, in.Reason); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) removeSuppression(c *fiber.Ctx) error {
	addr, err := url.PathUnescape(c.Params("address"))
	if err != nil {
		addr = c.Params("address")
	}
	if err := s.deps.Email.Unsuppress(c.UserContext(), addr); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) getEmailPreferences(c *fiber.Ctx) error {
	p, err := s.deps.Email.Preferences(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) putEmailPreferences(c *fiber.Ctx) error {
	var in email.Preferences
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.deps.Email.SetPreferences(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}
