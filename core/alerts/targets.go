package alerts

import (
	"context"
	"fmt"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// Who an alert goes to. Users are records of the user table (core/auth);
// a user linked to a provider record has provider_id (the provider role
// and "my panel"). Disabled users get nothing.

// providerUsers are the active users linked to provider record id.
func (s *Service) providerUsers(ctx context.Context, providerID string) ([]string, error) {
	if providerID == "" {
		return nil, nil
	}
	ids, err := store.Query[[]string](ctx, s.d.DB,
		"SELECT VALUE record::id(id) FROM user WHERE provider_id = $p AND disabled = false", map[string]any{"p": providerID})
	if err != nil {
		return nil, fmt.Errorf("find the provider's users: %w", err)
	}
	return ids, nil
}

// usersWithRole are the active users with one of roles.
func (s *Service) usersWithRole(ctx context.Context, roles ...string) ([]string, error) {
	ids, err := store.Query[[]string](ctx, s.d.DB,
		"SELECT VALUE record::id(id) FROM user WHERE role IN $roles AND disabled = false", map[string]any{"roles": roles})
	if err != nil {
		return nil, fmt.Errorf("find users by role: %w", err)
	}
	return ids, nil
}

// recentUsers are the users who read or changed patient id within the
// last RecentDays (from the audit trail: successful patient actions on
// that record by users who work with patients), still active.
func (s *Service) recentUsers(ctx context.Context, patientID string) ([]string, error) {
	since := s.d.Now().UTC().Add(-time.Duration(s.o.RecentDays) * 24 * time.Hour)
	ids, err := store.Query[[]string](ctx, s.d.DB, `LET $actors = array::distinct(SELECT VALUE actor FROM audit
			WHERE record = $rec AND resource = 'patient' AND outcome = 'success' AND at >= $since
			AND role IN ['admin', 'staff', 'provider']);
		RETURN SELECT VALUE record::id(id) FROM user WHERE record::id(id) IN $actors AND disabled = false;`,
		map[string]any{"rec": patientID, "since": since})
	if err != nil {
		return nil, fmt.Errorf("find the patient's recent users: %w", err)
	}
	return ids, nil
}

// careTeam are the users told about a patient by the periodic rules:
// the users linked to the patient's provider, or else every active
// admin and staff user.
func (s *Service) careTeam(ctx context.Context, providerID string) ([]string, error) {
	ids, err := s.providerUsers(ctx, providerID)
	if err != nil || len(ids) > 0 {
		return ids, err
	}
	return s.usersWithRole(ctx, "admin", "staff")
}

// without returns ids less drop.
func without(ids []string, drop string) []string {
	out := ids[:0:0]
	for _, id := range ids {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}
