// Package patienttest has fakes for tests of code that uses the patient
// service: an Auditor that keeps events in memory (and can be told to
// fail), and actor contexts for each role. Only tests import it.
package patienttest

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
)

// Auditor is an in-memory patient.Auditor.
type Auditor struct {
	mu     sync.Mutex
	events []audit.Event
	fail   bool
}

// ErrAuditDown is what a failing Auditor returns.
var ErrAuditDown = fault.New(fault.ErrUnavailable, "audit store down (test)")

// Record keeps e, or fails when SetFailing(true) was called.
func (a *Auditor) Record(_ context.Context, e audit.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return ErrAuditDown
	}
	a.events = append(a.events, e)
	return nil
}

// SetFailing makes Record fail (true) or work again (false).
func (a *Auditor) SetFailing(fail bool) {
	a.mu.Lock()
	a.fail = fail
	a.mu.Unlock()
}

// Events returns the events recorded so far.
func (a *Auditor) Events() []audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.events)
}

// Last returns the last event with this action, and whether there is one.
func (a *Auditor) Last(action string) (audit.Event, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.events) - 1; i >= 0; i-- {
		if a.events[i].Action == action {
			return a.events[i], true
		}
	}
	return audit.Event{}, false
}

// Reset forgets the events.
func (a *Auditor) Reset() {
	a.mu.Lock()
	a.events = nil
	a.mu.Unlock()
}

// As returns ctx acting as a user of role (user id "u_<role>").
func As(ctx context.Context, role actor.Role) context.Context {
	return actor.With(ctx, actor.Actor{UserID: "u_" + string(role), Role: role, RequestID: "req-" + string(role), IP: "127.0.0.1"})
}

// AsLinked returns ctx acting as a user of role linked to provider
// providerID (a provider's panel, or "my panel" for staff and admins).
func AsLinked(ctx context.Context, role actor.Role, providerID string) context.Context {
	a := actor.From(As(ctx, role))
	a.ProviderID = providerID
	return actor.With(ctx, a)
}

// IsAuditDown reports whether err came from a failing Auditor.
func IsAuditDown(err error) bool { return errors.Is(err, ErrAuditDown) }
