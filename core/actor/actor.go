// Package actor carries who is acting, and from where, through a
// context.Context: the signed-in user (or a system task), the request id
// and the client address. Every package that audits or checks permissions
// reads it from here, so the same rules hold for the API, the CLI, the
// chat assistant and plugins acting for a user.
package actor

import "context"

// Role is a user's role. The set is closed: admin, staff, provider,
// auditor.
type Role string

// The roles of design.md.
const (
	RoleAdmin   Role = "admin"
	RoleStaff   Role = "staff"
	RoleAuditor Role = "auditor"
	// RoleProvider is a clinician signed in as themselves: staff's
	// patient work, scoped to their own panel (the patients whose
	// provider_id is Actor.ProviderID; core/patient/scope.go).
	RoleProvider Role = "provider"
	// RoleSystem is used by start-up tasks and the CLI acting as the
	// operator (seeding, imports run from the shell).
	RoleSystem Role = "system"
)

// Valid reports whether r is one of the four user roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleStaff || r == RoleProvider || r == RoleAuditor
}

// ReadsPatients reports whether r works with patient records (a
// provider only with those of its panel).
func (r Role) ReadsPatients() bool {
	return r == RoleAdmin || r == RoleStaff || r == RoleProvider || r == RoleSystem
}

// Actor is who performs an operation. It holds no patient data.
type Actor struct {
	UserID    string // user record key, or "system", or "" when anonymous
	Email     string // shown to admins; never written to audit as PHI (it is staff data)
	Role      Role
	RequestID string
	IP        string
	SessionID string
	// ProviderID is the provider record the user is linked to: the panel
	// a provider is scoped to, and "my panel" for staff and admins.
	ProviderID string
}

// Anonymous reports whether nobody is signed in.
func (a Actor) Anonymous() bool { return a.UserID == "" }

type key struct{}

// With returns ctx carrying a.
func With(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, key{}, a)
}

// From returns the actor in ctx; the zero Actor (anonymous) if none.
func From(ctx context.Context) Actor {
	a, _ := ctx.Value(key{}).(Actor)
	return a
}

// System returns ctx acting as the system (start-up, CLI).
func System(ctx context.Context) context.Context {
	return With(ctx, Actor{UserID: "system", Role: RoleSystem, RequestID: "system"})
}
