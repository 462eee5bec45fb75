package api

import "github.com/gofiber/fiber/v2"

// authenticate resolves the session cookie or bearer token into the actor
// of the request context, and checks CSRF on cookie-authenticated writes.
// (Placeholder until core/auth is wired: everyone is anonymous.)
func (s *Server) authenticate(c *fiber.Ctx) error {
	return c.Next()
}
