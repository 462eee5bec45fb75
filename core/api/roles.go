package api

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
)

// Role sets used by the route table. Every route names one; a route
// without allow() is public (health, login).
var (
	anyUser       = []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor}
	staffAndAdmin = []actor.Role{actor.RoleAdmin, actor.RoleStaff}
	adminOnly     = []actor.Role{actor.RoleAdmin}
	auditAndAdmin = []actor.Role{actor.RoleAdmin, actor.RoleAuditor}
	readersOfPHI  = []actor.Role{actor.RoleAdmin, actor.RoleStaff} // patient data
)

// allow admits only signed-in callers whose role is in roles: 401 for
// nobody signed in, 403 for a role that may not. The decision is made on
// the server for every call, whatever the page showed.
func allow(roles []actor.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		a := actor.From(c.UserContext())
		if a.Anonymous() {
			return fault.New(fault.ErrUnauthorized, "sign in first (session cookie or Authorization: Bearer token)")
		}
		if !slices.Contains(roles, a.Role) {
			return fault.Newf(fault.ErrForbidden, "your role (%s) may not do this", a.Role)
		}
		return c.Next()
	}
}
