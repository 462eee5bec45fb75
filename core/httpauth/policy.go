package httpauth

import (
	"fmt"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
)

// Policy names who may use a route. Every route of the API and every
// page names one with Require; a route without Require is public
// (health, sign-in, assets). Roles is the one route × role table of
// pfinni: the API and the pages take their decisions from it alike.
type Policy uint8

// The policies.
const (
	// SignedIn: every role (the session, the assistant, help).
	SignedIn Policy = iota + 1
	// PatientData: practice-wide patient work beyond a panel's records —
	// imports and the documents they keep, merges, insurance checks,
	// keeping the provider directory (PHI) — admins and staff.
	PatientData
	// AdminOnly: users, plugins, settings, deleting a patient.
	AdminOnly
	// AuditTrail: reading the audit trail — admins and auditors.
	AuditTrail
	// PanelData: patient records themselves (list, read, write, dashboard
	// figures) — admins, staff and providers; the patient service scopes
	// a provider to its own panel (core/patient/scope.go).
	PanelData
)

// Roles lists the roles the policy admits.
func (p Policy) Roles() []actor.Role {
	switch p {
	case SignedIn:
		return []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleProvider, actor.RoleAuditor}
	case PanelData:
		return []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleProvider}
	case PatientData:
		return []actor.Role{actor.RoleAdmin, actor.RoleStaff}
	case AdminOnly:
		return []actor.Role{actor.RoleAdmin}
	case AuditTrail:
		return []actor.Role{actor.RoleAdmin, actor.RoleAuditor}
	}
	return nil // an unknown policy admits nobody
}

// Allows reports whether role may use a route of the policy.
func (p Policy) Allows(role actor.Role) bool { return slices.Contains(p.Roles(), role) }

func (p Policy) String() string {
	switch p {
	case SignedIn:
		return "signed in"
	case PatientData:
		return "patient data"
	case AdminOnly:
		return "admin only"
	case AuditTrail:
		return "audit trail"
	case PanelData:
		return "panel data"
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

// Require admits only signed-in callers whose role the policy allows:
// ErrSignInRequired (401) for nobody signed in, ErrRoleDenied (403) for
// a role it does not. The decision is made on the server for every
// call, whatever the page showed; the services check again.
func Require(p Policy) fiber.Handler {
	return func(c *fiber.Ctx) error {
		a := actor.From(c.UserContext())
		if a.Anonymous() {
			return ErrSignInRequired
		}
		if !p.Allows(a.Role) {
			return &roleError{role: a.Role}
		}
		return c.Next()
	}
}

// roleError is ErrRoleDenied naming the caller's role.
type roleError struct{ role actor.Role }

func (e *roleError) Error() string        { return fmt.Sprintf("your role (%s) may not do this", e.role) }
func (e *roleError) Unwrap() error        { return fault.ErrForbidden }
func (e *roleError) Is(target error) bool { return target == ErrRoleDenied }
