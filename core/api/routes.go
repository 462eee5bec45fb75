package api

import "github.com/gofiber/fiber/v2"

// Services are the domain services the API serves; each engineer adds
// the field for their service here and a bind call below.
type Services struct {
}

// bindRoutes binds every resource under /api/v1. Each bind function lives
// in the resource's own file and states which roles may call what (see
// roles.go for the table).
func (s *Server) bindRoutes(r fiber.Router) {
}
