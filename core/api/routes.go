package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/alerts"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/eligibility"
	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/views"
	"github.com/pfinni/pfinni/core/webhooks"
)

// Services are the domain services the API serves; each engineer adds
// the field for their service here and a bind call below.
type Services struct {
	Auth  *auth.Service // sign-in, sessions, users (auth.go, users.go)
	Audit *audit.Log    // the audit trail, read-only (audit.go)
	// Plugins is the plugin registry's admin side (plugins.go).
	Plugins PluginAdmin

	Patients *patient.Service  // patients and providers (patients.go, providers.go)
	Imports  *importer.Service // imports and kept documents (imports.go)
	Chat     *chat.Service     // the assistant (chat.go)
	Jobs     JobsAdmin         // the background job queue, admin side (jobs.go)
	// Eligibility checks insurance coverage (eligibility.go).
	Eligibility *eligibility.Service
	// Email sends invitations, password resets and the digest (email.go);
	// nil or without a sender: e-mail is off.
	Email *email.Service
	// Webhooks manages outgoing webhooks (webhooks.go).
	Webhooks *webhooks.Service
	// Backups makes and lists backups (backups.go).
	Backups BackupsAdmin
	// Alerts are the signed-in user's alerts (alerts.go, /ws/chat).
	Alerts *alerts.Service
	// Views are the saved views of the patient list (views.go).
	Views *views.Service
	// Review is the identity review queue of imports (review.go).
	Review *review.Service
}

// bindRoutes binds every resource under /api/v1. Each bind function lives
// in the resource's own file and states which roles may call what (see
// roles.go for the table).
func (s *Server) bindRoutes(r fiber.Router) {
	s.bindAuthAPI(r)
	s.bindUsersAPI(r)
	s.bindAuditAPI(r)
	s.bindPluginsAPI(r)
	s.bindPatientsAPI(r)
	s.bindMergeAPI(r)
	s.bindReviewAPI(r)
	s.bindViewsAPI(r)
	s.bindProvidersAPI(r)
	s.bindImportsAPI(r)
	s.bindChatAPI(r)
	s.bindJobsAPI(r)
	s.bindEligibilityAPI(r)
	s.bindOpenAPI(r)
	s.bindEmailAPI(r)
	s.bindWebhooksAPI(r)
	s.bindBackupsAPI(r)
	s.bindAlertsAPI(r)
}
