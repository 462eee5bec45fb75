package patient

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Auditor stores audit events. Record returns once the event is stored
// (the audit log batches concurrent calls into one write); an error means
// it was not, and the operation that wanted it fails.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// ErrAuditUnavailable: the audit trail did not store the event, so the
// operation is refused (no unaudited access to patient data).
var ErrAuditUnavailable = fault.New(fault.ErrUnavailable, "audit trail unavailable")

// Option configures a Service.
type Option func(*options)

type options struct {
	now      func() time.Time
	loc      *time.Location
	log      *slog.Logger
	pageSize int
	live     bool
	observer Observer    // committed writes (WithObserver)
	shared   SharedStats // Stats kept for every instance (WithSharedStats)
	// providersSeeAll: providers may open patients outside their panel
	// (WithProvidersSeeAll, scope.go).
	providersSeeAll bool
}

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLocation sets the practice's time zone, which decides what "today"
// is for birthdays, ages, date filters and weekly figures (default
// time.Local).
func WithLocation(loc *time.Location) Option { return func(o *options) { o.loc = loc } }

// WithLogger sets the logger (no PHI is ever logged).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithLoadPageSize sets how many patients each SELECT of the start-up
// load fetches (default 2,500).
func WithLoadPageSize(n int) Option { return func(o *options) { o.pageSize = n } }

// WithoutLive disables the live queries that apply other instances'
// writes (for one-shot CLI commands).
func WithoutLive() Option { return func(o *options) { o.live = false } }

// Service is the patient and provider service: every read is served from
// the in-memory directory, every write goes to SurrealDB first.
type Service struct {
	db     *store.DB
	aud    Auditor
	dir    *directory
	opt    options
	cancel context.CancelFunc
	reload sync.Mutex // one reload at a time

	statsMu    sync.Mutex
	statsCache map[statsKey]Stats
}

// New builds the service: it subscribes to live changes of patients,
// providers and status changes, then loads the directory (so no write
// made during the load is missed), and is ready to serve when it returns.
// Call Close when done.
func New(ctx context.Context, db *store.DB, aud Auditor, opts ...Option) (*Service, error) {
	o := options{now: time.Now, loc: time.Local, log: slog.Default(), pageSize: 2500, live: true}
	for _, f := range opts {
		f(&o)
	}
	if aud == nil {
		return nil, fmt.Errorf("new patient service: an Auditor is required")
	}
	lctx, cancel := context.WithCancel(context.Background())
	s := &Service{db: db, aud: aud, dir: newDirectory(), opt: o, cancel: cancel, statsCache: map[statsKey]Stats{}}
	s.dir.beginReload()
	if o.live {
		if err := s.subscribe(lctx); err != nil {
			s.dir.endReload(nil)
			cancel()
			return nil, fmt.Errorf("new patient service: %w", err)
		}
	}
	st, err := s.load(ctx)
	s.dir.endReload(st)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("new patient service: %w", err)
	}
	return s, nil
}

// Close stops the live queries. The service must not be used afterwards.
func (s *Service) Close() error {
	s.cancel()
	return nil
}

// Reload reloads the whole directory from the database (after a
// reconnect, when live changes may have been missed).
func (s *Service) Reload(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	s.dir.beginReload()
	st, err := s.load(ctx)
	s.dir.endReload(st)
	if err != nil {
		s.opt.log.Error("reload patient directory", "err", err)
		return fmt.Errorf("reload patient directory: %w", err)
	}
	return nil
}

func (s *Service) now() time.Time { return s.opt.now().In(s.opt.loc) }

// today is the current calendar day in the practice's time zone.
func (s *Service) today() time.Time { return dayOf(s.now()) }

// Count returns how many patients the directory holds (no audit: no PHI).
func (s *Service) Count() int {
	n := 0
	s.dir.read(func(st *state) { n = len(st.byID) })
	return n
}

// newID returns prefix plus 12 random base-32 characters: short, safe in
// URLs and audit records, and free of PHI.
func newID(prefix string) string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return prefix + string(b)
}

// Roles allowed to touch patient data through the service (a provider
// within its panel: scope.go).
func allowed(r actor.Role) bool { return r.ReadsPatients() }

// authorize refuses anonymous callers and auditors (and non-admins for
// admin-only actions), auditing the refusal.
func (s *Service) authorize(ctx context.Context, action, resource, record string, adminOnly bool) error {
	a := actor.From(ctx)
	var err error
	switch {
	case a.Anonymous():
		err = ErrNotSignedIn
	case !allowed(a.Role):
		err = ErrNotAllowed
	case adminOnly && a.Role != actor.RoleAdmin && a.Role != actor.RoleSystem:
		err = fault.New(fault.ErrForbidden, "only an admin may do this")
	}
	if err == nil {
		return nil
	}
	if aerr := s.record(ctx, action, resource, record, audit.OutcomeDenied, ""); aerr != nil {
		return aerr
	}
	return fmt.Errorf("%s: %w", action, err)
}

// record stores one audit event for the caller in ctx.
func (s *Service) record(ctx context.Context, action, resource, record, outcome, detail string) error {
	a := actor.From(ctx)
	e := audit.Event{
		At: s.opt.now().UTC(), Actor: a.UserID, Role: string(a.Role), Action: action, Resource: resource,
		Record: record, Outcome: outcome, RequestID: a.RequestID, IP: a.IP, Detail: detail,
	}
	if err := s.aud.Record(ctx, e); err != nil {
		return fmt.Errorf("%s: %w: %w", action, ErrAuditUnavailable, err)
	}
	return nil
}

// outcomeOf classifies err for the audit trail.
func outcomeOf(err error) string {
	switch {
	case err == nil:
		return audit.OutcomeSuccess
	case isKind(err, fault.ErrInvalid, fault.ErrNotFound, fault.ErrConflict):
		return audit.OutcomeFailure
	default:
		return audit.OutcomeError
	}
}

func isKind(err error, kinds ...error) bool {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// failureDetail names what failed without values: the fields of a
// validation error, or the kind.
func failureDetail(err error) string {
	var f fault.Fields
	if errors.As(err, &f) {
		names := make([]string, len(f))
		for i, fe := range f {
			names[i] = fe.Field
		}
		return "invalid=" + strings.Join(names, ",")
	}
	switch {
	case errors.Is(err, fault.ErrNotFound):
		return "not_found"
	case errors.Is(err, fault.ErrConflict):
		return "conflict"
	case errors.Is(err, fault.ErrUnavailable):
		return "unavailable"
	}
	return "error"
}

// finish audits the outcome of a write or read and returns err, or the
// audit error when storing the event failed.
func (s *Service) finish(ctx context.Context, action, resource, record, detail string, err error) error {
	if err != nil {
		detail = failureDetail(err)
	}
	if aerr := s.record(ctx, action, resource, record, outcomeOf(err), detail); aerr != nil {
		// Unaudited means refused, even for a failure. (A write that
		// committed but could not be audited also answers 503: the audit
		// store shares the database, so this is the database going away
		// between the two statements.)
		return aerr
	}
	return err
}

// Location is the practice's time zone (for parsing date filters).
func (s *Service) Location() *time.Location { return s.opt.loc }
