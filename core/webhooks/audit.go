package webhooks

import (
	"context"
	"fmt"

	"github.com/pfinni/pfinni/core/audit"
)

// Auditor stores audit events (*audit.Log). Endpoint changes and
// replays are audited; an event that cannot be stored fails the call.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// audit records action on record, if an Auditor is set. detail names
// event types or fields, never secrets or URLs' credentials (refused).
func (s *Service) audit(ctx context.Context, action, resource, record, detail string) error {
	if s.opt.Audit == nil {
		return nil
	}
	if err := s.opt.Audit.Record(ctx, audit.Event{Action: action, Resource: resource, Record: record,
		Outcome: audit.OutcomeSuccess, Detail: detail}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
