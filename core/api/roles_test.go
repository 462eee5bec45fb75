package api

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/eligibility"
	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/core/views"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// routeRule is one row of the route x role table: who may call a route.
// A nil roles list marks a public route.
type routeRule struct {
	method, path string
	roles        []actor.Role
}

// The table is written from the product rules (design.md "Roles": admin
// does everything, staff handles patients and chat, the auditor reads the
// audit trail and changes nothing; a provider works with the patient
// records of its own panel, which the patient service enforces, but not
// with imports, documents, merges, insurance checks or the provider
// directory's upkeep), independently of the bind functions: a route bound
// with other roles, or a route missing here, fails the test.
var (
	publicRoute []actor.Role
	anyRole     = []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleProvider, actor.RoleAuditor}
	phi         = []actor.Role{actor.RoleAdmin, actor.RoleStaff}
	panel       = []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleProvider}
	admins      = []actor.Role{actor.RoleAdmin}
	auditView   = []actor.Role{actor.RoleAdmin, actor.RoleAuditor}
)

var routeTable = []routeRule{
	// Sign-in and the session.
	{"POST", "/api/v1/auth/login", publicRoute},
	{"POST", "/api/v1/auth/logout", anyRole},
	{"GET", "/api/v1/auth/me", anyRole},
	{"GET", "/api/v1/openapi.json", anyRole},

	// Users and roles: admin only.
	{"GET", "/api/v1/users", admins},
	{"POST", "/api/v1/users", admins},
	{"GET", "/api/v1/users/:id", admins},
	{"PATCH", "/api/v1/users/:id", admins},

	// The audit trail: read by auditors and admins, changed by nobody.
	{"GET", "/api/v1/audit", auditView},
	{"GET", "/api/v1/audit/verify", auditView},
	{"GET", "/api/v1/audit/head", auditView},
	{"GET", "/api/v1/audit/export.csv", auditView},

	// Plugins: admin only.
	{"GET", "/api/v1/plugins", admins},
	{"POST", "/api/v1/plugins/:name/enable", admins},
	{"POST", "/api/v1/plugins/:name/disable", admins},

	// Patients (PHI): staff, admins and providers (their panel; another
	// panel's patient is a 404); delete is admin only.
	{"GET", "/api/v1/patients", panel},
	{"POST", "/api/v1/patients", panel},
	{"POST", `/api/v1/patients\:batch`, panel}, // a literal colon (Fiber escapes it)
	{"GET", "/api/v1/patients/stats", panel},
	{"GET", "/api/v1/patients/workflow", panel},
	{"GET", "/api/v1/patients/export.csv", panel},
	{"GET", "/api/v1/patients/:id", panel},
	{"PATCH", "/api/v1/patients/:id", panel},
	{"DELETE", "/api/v1/patients/:id", admins},
	{"POST", "/api/v1/patients/:id/status", panel},
	{"GET", "/api/v1/patients/:id/history", panel},
	{"GET", "/api/v1/patients/:id/documents", phi},
	{"POST", "/api/v1/patients/:id/merge", phi},
	{"GET", "/api/v1/patients/:id/merges", phi},
	{"POST", "/api/v1/patients/:id/merge/undo", phi},
	// The identity review queue holds documents' demographics (review.go).
	{"GET", "/api/v1/review", phi},
	{"POST", "/api/v1/review/:id/resolve", phi},

	// Saved views of the patient list: everyone who works with patient
	// records; the service decides who may change a shared one.
	{"GET", "/api/v1/views", panel},
	{"POST", "/api/v1/views", panel},
	{"GET", "/api/v1/views/:id", panel},
	{"PATCH", "/api/v1/views/:id", panel},
	{"DELETE", "/api/v1/views/:id", panel},

	// Providers: providers read the directory; staff and admins keep it.
	{"GET", "/api/v1/providers", panel},
	{"POST", "/api/v1/providers", phi},
	{"GET", "/api/v1/providers/:id", panel},
	{"PATCH", "/api/v1/providers/:id", phi},

	// Imports and the documents they keep (PHI).
	{"POST", "/api/v1/imports", phi},
	{"GET", "/api/v1/imports", phi},
	{"GET", "/api/v1/imports/quarantine", phi},
	{"GET", "/api/v1/imports/:id", phi},
	{"POST", "/api/v1/imports/files/:id/retry", phi},
	{"POST", "/api/v1/imports/:id/commit", phi},
	{"GET", "/api/v1/documents/:id", phi},

	// The assistant: every signed-in role may talk to it; what a role may
	// see or change through it is checked by the services it calls.
	{"POST", "/api/v1/chat", anyRole},
	{"GET", "/api/v1/chat/contract", anyRole},
	{"GET", "/api/v1/chat/history", anyRole},
	{"POST", "/api/v1/chat/actions/:id/confirm", anyRole},
	{"POST", "/api/v1/chat/actions/:id/cancel", anyRole},
	{"GET", "/api/v1/chat/tour", anyRole},
	{"PUT", "/api/v1/chat/tour", anyRole},
	{"GET", "/ws/chat", anyRole},

	// The background job queue: admin only.
	{"GET", "/api/v1/jobs", admins},
	{"POST", "/api/v1/jobs/:id/retry", admins},

	// Insurance eligibility: checks are patient data; the raw X12 (PHI,
	// for troubleshooting) is admin only.
	{"POST", "/api/v1/patients/:id/eligibility", phi},
	{"GET", "/api/v1/patients/:id/eligibility", phi},
	{"GET", "/api/v1/eligibility/:check_id/x12", admins},

	// E-mail: the password links are for people who are not signed in;
	// invitations and the suppression list are admin only; each user
	// sets their own preferences.
	{"POST", "/api/v1/auth/password/forgot", publicRoute},
	{"POST", "/api/v1/auth/password/set", publicRoute},
	{"POST", "/api/v1/email/events", publicRoute}, // Resend's webhooks: signature-verified, no session
	{"POST", "/api/v1/users/:id/invite", admins},
	{"GET", "/api/v1/email/suppressions", admins},
	{"POST", "/api/v1/email/suppressions", admins},
	{"DELETE", "/api/v1/email/suppressions/:address", admins},
	{"GET", "/api/v1/email/preferences", anyRole},

	// Outgoing webhooks: admin only.
	{"POST", "/api/v1/webhooks", admins},
	{"GET", "/api/v1/webhooks", admins},
	{"GET", "/api/v1/webhooks/:id", admins},
	{"PATCH", "/api/v1/webhooks/:id", admins},
	{"DELETE", "/api/v1/webhooks/:id", admins},
	{"GET", "/api/v1/webhooks/:id/deliveries", admins},
	{"POST", "/api/v1/webhooks/:id/deliveries/:delivery_id/replay", admins},
	{"PUT", "/api/v1/email/preferences", anyRole},

	// Backups: admin only (they hold every patient).
	{"GET", "/api/v1/backups", admins},
	{"POST", "/api/v1/backups", admins},

	// Alerts: every signed-in user reads and marks their own; what an
	// alert says about a patient is composed for the caller.
	{"GET", "/api/v1/alerts", anyRole},
	{"POST", "/api/v1/alerts/read-all", anyRole},
	{"POST", "/api/v1/alerts/:id/read", anyRole},
}

// newFullServer serves every API service on one database.
func newFullServer(t *testing.T) (*Server, *auth.Service) {
	t.Helper()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	env := importertest.New(t, db, log, importer.Options{})
	assistant, err := chat.New(context.Background(), chat.Deps{DB: db, Patients: env.Patients, Audit: log, Logger: quiet}, chat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = assistant.Close() })
	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 1 << 30})
	cfg := testConfig(t)
	cfg.APIRateLimit = 1 << 30
	elig, err := eligibility.New(eligibility.Deps{DB: db, Patients: env.Patients, Audit: log}, eligibility.Options{})
	require.NoError(t, err)
	srv := New(Deps{Logger: quiet, Config: cfg, DB: db, Services: Services{
		Auth: au, Audit: log, Plugins: env.Registry, Patients: env.Patients, Imports: env.Imports, Chat: assistant,
		Jobs: jobs.NewAdmin(db, log), Eligibility: elig,
		Email:    email.New(db, jobs.New(db, jobs.Options{Logger: quiet}), nil, au, log, email.Options{Logger: quiet}),
		Webhooks: newWebhooks(t, db, log),
		Alerts:   newAlerts(t, db, env.Patients),
		Backups:  backup.NewService(db, backup.Options{Dir: t.TempDir(), Audit: log}),
		Views:    views.New(db, log),
		Review:   env.Review,
	}})
	sys := actor.System(context.Background())
	doc, err := env.Patients.CreateProvider(sys, patient.ProviderInput{Name: "Dr. Roles"})
	require.NoError(t, err)
	for _, r := range anyRole {
		link := ""
		if r == actor.RoleProvider {
			link = doc.ID
		}
		_, err := au.CreateUser(sys, auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, ProviderID: link, Password: apiTestPassword})
		require.NoError(t, err)
	}
	return srv, au
}

var routeParam = regexp.MustCompile(`(^|[^\\]):[A-Za-z_]+`)

func TestRouteRoleTable(t *testing.T) {
	srv, au := newFullServer(t)
	app := srv.App()

	// (a) Every route the server binds is in the table, and (b) every
	// table row is bound (a stale row would test nothing).
	table := map[string]routeRule{}
	for _, r := range routeTable {
		key := r.method + " " + r.path
		if _, dup := table[key]; dup {
			t.Fatalf("duplicate table row %s", key)
		}
		table[key] = r
	}
	bound := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == "HEAD" || !(strings.HasPrefix(r.Path, "/api/v1/") || strings.HasPrefix(r.Path, "/ws/")) {
			continue // HEAD mirrors GET; health probes are public by design
		}
		key := r.Method + " " + r.Path
		bound[key] = true
		if _, ok := table[key]; !ok {
			t.Errorf("route %s is bound but not in the route x role table", key)
		}
	}
	for key := range table {
		assert.True(t, bound[key], "table row %s is not bound by the server", key)
	}

	// (c) Each route x {anonymous, admin, staff, provider, auditor}: 401 for
	// anonymous, 403 for a role the table does not name, and neither for
	// a role it does. Every call uses a fresh session (bearer, so no CSRF
	// token is needed) so that logging out does not spoil the next one.
	login := func(r actor.Role) []string {
		ctx := actor.With(context.Background(), actor.Actor{RequestID: "roles-test", IP: "192.0.2.10"})
		sess, err := au.Login(ctx, string(r)+"@x.example", apiTestPassword)
		require.NoError(t, err)
		return []string{"Authorization", "Bearer " + sess.Token}
	}
	for _, rule := range routeTable {
		path := strings.ReplaceAll(routeParam.ReplaceAllString(rule.path, "${1}no-such-id"), `\:`, ":")
		body := ""
		if rule.method != "GET" && rule.method != "DELETE" {
			body = "{}"
		}
		for _, role := range append([]actor.Role{""}, anyRole...) {
			name := fmt.Sprintf("%s %s as %s", rule.method, rule.path, cmpOr(string(role), "anonymous"))
			t.Run(name, func(t *testing.T) {
				var hdr []string
				if role != "" {
					hdr = login(role)
				}
				res, resBody := do(t, app, rule.method, path, body, hdr...)
				switch {
				case rule.roles == nil:
					assert.NotContains(t, []int{401, 403}, res.StatusCode, "public route: %s", resBody)
				case role == "":
					assert.Equal(t, 401, res.StatusCode, "anonymous: %s", resBody)
				case !slices.Contains(rule.roles, role):
					assert.Equal(t, 403, res.StatusCode, "role not allowed: %s", resBody)
				default:
					assert.NotContains(t, []int{401, 403}, res.StatusCode, "role allowed: %s", resBody)
					assert.Less(t, res.StatusCode, 500, "an allowed call with a dummy body must not fail on the server: %s", resBody)
				}
			})
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
