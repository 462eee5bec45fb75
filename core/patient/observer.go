package patient

import "context"

// Observer learns of patient writes once they are committed and audited
// (core/app passes core/webhooks' publisher). It is called on the
// writing goroutine and must not fail the write: it handles its own
// errors. Committed carries record ids, versions, field names and
// statuses, never patient data.
type Observer interface {
	PatientChanged(ctx context.Context, c Committed)
}

// What a Committed write did.
const (
	CommittedCreate = "created"
	CommittedUpdate = "updated"
	CommittedStatus = "status_changed"
	CommittedDelete = "deleted"
)

// Committed is one committed patient write.
type Committed struct {
	Action    string // CommittedCreate, …
	PatientID string
	Version   int      // the version the write produced
	Fields    []string // names of the changed fields (updates)
	From, To  Status   // status changes
}

// WithObserver sets who learns of committed writes.
func WithObserver(o Observer) Option { return func(opt *options) { opt.observer = o } }

// notify tells the observer, if any, of a committed write.
func (s *Service) notify(ctx context.Context, c Committed) {
	if s.opt.observer != nil {
		s.opt.observer.PatientChanged(ctx, c)
	}
}
