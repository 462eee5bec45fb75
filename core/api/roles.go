package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/httpauth"
)

// The policies the route table names, from the one route × role table
// shared with the pages (httpauth.Policy). Every route names one; a
// route without allow() is public (health, login).
const (
	anyUser       = httpauth.SignedIn
	staffAndAdmin = httpauth.PatientData
	adminOnly     = httpauth.AdminOnly
	auditAndAdmin = httpauth.AuditTrail
	readersOfPHI  = httpauth.PatientData // patient data
	// panelUsers: patient records, which the patient service scopes to a
	// provider's own panel (admins, staff, providers).
	panelUsers = httpauth.PanelData
)

// allow admits only signed-in callers whose role the policy allows: 401
// for nobody signed in, 403 for a role that may not. The decision is
// made on the server for every call, whatever the page showed.
func allow(p httpauth.Policy) fiber.Handler { return httpauth.Require(p) }
