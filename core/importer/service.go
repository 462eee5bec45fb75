package importer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/sdk"
)

// Patients is the patient service as the importer uses it; every write
// goes through it, so validation, history and audit are the same as for
// any other change. *patient.Service implements it.
type Patients interface {
	GetByMRN(ctx context.Context, mrn string) (*patient.Patient, error)
	Get(ctx context.Context, id string) (*patient.Patient, error)
	Create(ctx context.Context, in patient.Input) (*patient.Patient, error)
	Update(ctx context.Context, id string, version int, p patient.Patch) (*patient.Patient, error)
	// Identity matching (match.go): by (system, value), then the
	// duplicate scorer; GenerateMRN for records without a usable MRN.
	FindByIdentifiers(ctx context.Context, ids []patient.Identifier) ([]*patient.Patient, error)
	Candidates(ctx context.Context, in patient.Input, limit int) ([]patient.Candidate, error)
	GenerateMRN() string
}

// ReviewQueue takes the records a person must decide on (identity.go);
// *review.Queue implements it.
type ReviewQueue interface {
	Add(ctx context.Context, it review.Item) (string, error)
}

// Providers finds and creates the responsible providers named in
// documents. *patient.Service implements it.
type Providers interface {
	ListProviders(ctx context.Context) ([]patient.Provider, error)
	CreateProvider(ctx context.Context, in patient.ProviderInput) (patient.Provider, error)
}

var (
	_ Patients    = (*patient.Service)(nil)
	_ Providers   = (*patient.Service)(nil)
	_ ReviewQueue = (*review.Queue)(nil)
)

// Auditor stores audit events; *audit.Log implements it.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Deps are the services an import needs. All are required.
type Deps struct {
	DB *store.DB
	// Importer parses documents; the plugin registry (*plugin.Registry)
	// routes each format to its enabled importer plugin.
	Importer  sdk.Importer
	Patients  Patients
	Providers Providers
	Auditor   Auditor
	// Review is the identity review queue (optional): records without an
	// identifier, whose identifier belongs to someone who looks like
	// another person, or that score as a likely duplicate wait there.
	// When nil, such records are rejected with that reason instead.
	Review ReviewQueue
	// Jobs is the process's job queue (optional): imports run as its
	// KindProcess jobs, so its workers take over the imports of an
	// instance that died. When nil, the service makes a queue of its
	// own on DB that runs no workers; Start's loop then resumes
	// interrupted imports.
	Jobs *jobs.Queue
}

// Options tune a Service. Zero values take the defaults named.
type Options struct {
	// MaxBytes is the largest document accepted (config
	// import_max_bytes); 10 MiB.
	MaxBytes int64
	// Workers is how many documents are parsed at once (the results are
	// applied one by one, in file order); 2.
	Workers int
	// ApplyWorkers is how many files are applied at once; files about
	// the same MRN always go to the same worker, in order; 4.
	ApplyWorkers int
	// ParseTimeout bounds one importer call; 60s.
	ParseTimeout time.Duration
	// LeaseTTL is the lease of the queue the service makes when
	// Deps.Jobs is nil (renewed every LeaseTTL/3 while working); 30s.
	// With Deps.Jobs, that queue's lease applies.
	LeaseTTL time.Duration
	// ResumeEvery is how often Start's loop looks for interrupted jobs
	// whose queue job is due (resume.go); 30s.
	ResumeEvery time.Duration
	// Instance names this core instance in the leases of the queue the
	// service makes when Deps.Jobs is nil; random when empty.
	Instance string
	// Logger; nil discards. Nothing from a document is ever logged.
	Logger *slog.Logger
	// OnFinished, when set, is told of every finished job (webhooks).
	OnFinished FinishObserver
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 10 << 20
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.ApplyWorkers <= 0 {
		o.ApplyWorkers = 4
	}
	if o.ParseTimeout <= 0 {
		o.ParseTimeout = time.Minute
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.ResumeEvery <= 0 {
		o.ResumeEvery = 30 * time.Second
	}
	if o.Instance == "" {
		o.Instance = newID("i")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Service runs imports. Lifecycle: New -> Start (resumes interrupted
// jobs now and periodically) -> Submit / Run / reads -> Close (stops
// background work; unfinished files stay pending and are resumed later).
type Service struct {
	d   Deps
	opt Options
	log *slog.Logger
	q   *jobs.Queue // runs the imports (resume.go)
	// identity serialises the match-then-create of records (identity.go)
	// in this instance, so two documents about one new person applied at
	// once by two appliers make one patient and one review item, not two
	// patients.
	identity sync.Mutex

	bg     context.Context // lives until Close
	stop   context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

// New returns a Service; call Start to resume interrupted jobs.
func New(d Deps, opt Options) (*Service, error) {
	if d.DB == nil || d.Importer == nil || d.Patients == nil || d.Providers == nil || d.Auditor == nil {
		return nil, errors.New("new import service: DB, Importer, Patients, Providers and Auditor are required")
	}
	opt = opt.withDefaults()
	q := d.Jobs
	if q == nil {
		q = jobs.New(d.DB, jobs.Options{Instance: opt.Instance, Lease: opt.LeaseTTL, Logger: opt.Logger})
	}
	bg, stop := context.WithCancel(context.Background())
	s := &Service{d: d, opt: opt, log: opt.Logger, q: q, bg: bg, stop: stop}
	if err := q.Register(KindProcess, jobs.HandlerFunc(s.work)); err != nil {
		stop()
		return nil, fmt.Errorf("new import service: %w", err)
	}
	return s, nil
}

// MaxBytes is the largest document accepted.
func (s *Service) MaxBytes() int64 { return s.opt.MaxBytes }

// Start resumes interrupted jobs whose queue job is due, and jobs
// whose files wait for an importer, at once, then every ResumeEvery and
// whenever the importers in service change (an importer became ready or
// was enabled), until Close.
func (s *Service) Start(context.Context) {
	s.goBackground(func(ctx context.Context) {
		t := time.NewTicker(s.opt.ResumeEvery)
		defer t.Stop()
		for {
			changed := s.importersChanged()
			if _, err := s.Resume(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("resume interrupted imports", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-changed:
			}
		}
	})
}

// Close stops background work and waits for it: a job being processed
// stops between two files and is given back to the queue, so the next
// instance or run resumes it at once.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close import service: %w", ctx.Err())
	}
}

// goBackground runs f in a goroutine tracked by Close; false after Close.
func (s *Service) goBackground(f func(ctx context.Context)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.bg)
	}()
	return true
}

// ErrForbidden is returned to callers whose role may not import or read
// imported documents (auditors: no access to PHI).
var ErrForbidden = fault.New(fault.ErrForbidden, "your role may not import patients or read imported documents")

// ErrNotSignedIn is returned to anonymous callers.
var ErrNotSignedIn = fault.New(fault.ErrUnauthorized, "sign in first")

// ErrNotFound is returned for an unknown job, file or document.
var ErrNotFound = fault.New(fault.ErrNotFound, "not found")

// authorize admits admin, staff and the system; others are refused and
// the refusal is audited.
func (s *Service) authorize(ctx context.Context, action, resource, record string) error {
	a := actor.From(ctx)
	var err error
	switch {
	case a.Anonymous():
		err = ErrNotSignedIn
	case a.Role != actor.RoleAdmin && a.Role != actor.RoleStaff && a.Role != actor.RoleSystem:
		err = ErrForbidden
	default:
		return nil
	}
	if aerr := s.audit(ctx, action, resource, record, audit.OutcomeDenied, ""); aerr != nil {
		return aerr
	}
	return fmt.Errorf("%s: %w", action, err)
}

// audit stores one event for the actor in ctx (never PHI: ids, counts,
// results and reason codes only).
func (s *Service) audit(ctx context.Context, action, resource, record, outcome, detail string) error {
	if err := s.d.Auditor.Record(ctx, audit.Event{Action: action, Resource: resource, Record: record, Outcome: outcome, Detail: detail}); err != nil {
		return fmt.Errorf("%s: audit: %w", action, err)
	}
	return nil
}

// newID returns prefix plus 16 random base-32 characters.
func newID(prefix string) string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return prefix + string(b)
}
