package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/pfinni/pfinni/core/store"
)

// Handler runs one attempt of a job. It must be idempotent: after a
// crash the same job may run again (j.Attempt() tells which attempt this
// is). It must return soon after ctx ends (the lease was lost, or the
// queue is stopping). A returned error fails the attempt; wrap it with
// Permanent to make the job dead at once. Errors are stored and shown to
// admins, so they name record ids, never patient identifiers.
type Handler interface {
	Work(ctx context.Context, j Job) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, j Job) error

// Work calls f.
func (f HandlerFunc) Work(ctx context.Context, j Job) error { return f(ctx, j) }

var _ Handler = HandlerFunc(nil)

// Options tune a Queue. Zero values take the defaults shown.
type Options struct {
	// Instance names this process in leases (lease_owner); a random
	// suffix is added so that a restarted process is a new owner.
	Instance string
	// Workers is how many jobs this instance runs at once (4).
	Workers int
	// Lease is how long a claim holds a job without a heartbeat (30s).
	Lease time.Duration
	// Heartbeat is how often running jobs' leases are extended (Lease/3).
	// A job whose instance died is taken again within Lease+Heartbeat.
	Heartbeat time.Duration
	// PollInterval is how often an idle instance looks for due jobs
	// (1s); an Enqueue on the same instance wakes it at once.
	PollInterval time.Duration
	// Batch is the most jobs one claim takes (Workers). A larger batch
	// claims ahead of the free workers: fewer round trips per job for
	// many short jobs, at the cost of holding jobs another idle instance
	// could have run.
	Batch int
	// Backoff is the retry delay policy (DefaultBackoff).
	Backoff Backoff
	// DrainTimeout is how long Stop waits for running jobs before it
	// cancels and releases them (25s), unless its context ends first.
	DrainTimeout time.Duration
	// Location is the time zone of cron schedules without CRON_TZ (UTC).
	Location *time.Location
	// Now is the clock for cron ticks (time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.Heartbeat <= 0 || o.Heartbeat >= o.Lease {
		o.Heartbeat = o.Lease / 3
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Batch <= 0 {
		o.Batch = o.Workers
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 25 * time.Second
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Instance == "" {
		host, _ := os.Hostname()
		o.Instance = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	o.Instance += "-" + hex.EncodeToString(b)
}

// Queue enqueues jobs and, once started, runs the kinds registered on it.
type Queue struct {
	db  *store.DB
	opt Options
	log *slog.Logger

	mu        sync.Mutex
	handlers  map[string]Handler
	schedules []*schedule
	running   map[string]*run
	started   bool
	stopped   bool

	wake      chan struct{} // an enqueue on this instance, or a freed worker
	stop      chan struct{} // closed by Stop: claim nothing more
	cancel    context.CancelFunc
	loops     sync.WaitGroup // fetch, heartbeat, cron
	succeeded chan Job       // successful attempts, recorded in batches
	flushed   chan struct{}  // closed when the success recorder has returned
	lastFlush chan struct{}  // closed by Stop: record what is left, then return
	fetchDone chan struct{}  // closed when the fetch loop has returned
	workers   sync.WaitGroup // running handlers (Add only in the fetch loop)
}

// run is one attempt this instance is running.
type run struct {
	job      Job
	ctx      context.Context // the attempt's, ended by cancel
	cancel   context.CancelFunc
	deadline time.Time // local estimate of lease_until
	lost     bool      // the lease was lost: write nothing
	released bool      // Stop gave the job back: write nothing
}

// New builds a queue on db. Register handlers and schedules, then Start.
func New(db *store.DB, opt Options) *Queue {
	opt.defaults()
	return &Queue{db: db, opt: opt, log: opt.Logger.With("component", "jobs", "instance", opt.Instance),
		handlers: map[string]Handler{}, running: map[string]*run{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), fetchDone: make(chan struct{}),
		succeeded: make(chan Job, 256), flushed: make(chan struct{}), lastFlush: make(chan struct{})}
}

// Instance is this queue's lease owner name.
func (q *Queue) Instance() string { return q.opt.Instance }

// Register makes this instance run jobs of kind with h. Call it before
// Start; an instance claims only the kinds it has handlers for.
func (q *Queue) Register(kind string, h Handler) error {
	if !validKind.MatchString(kind) {
		return fmt.Errorf("register job kind %q: not a valid kind", kind)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return fmt.Errorf("register job kind %q: the queue has started", kind)
	}
	if _, dup := q.handlers[kind]; dup {
		return fmt.Errorf("register job kind %q: already registered", kind)
	}
	q.handlers[kind] = h
	return nil
}

// Schedule enqueues a job of kind with args at every tick of spec (cron
// syntax with optional seconds: "*/5 * * * *", "@every 1m", "0 6 * * *";
// "CRON_TZ=Europe/Berlin 0 6 * * *" for a time zone). name identifies the
// schedule across instances: every instance that runs the same schedule
// shares its ticks, and exactly one of them enqueues each tick. Ticks
// missed while no instance ran are skipped. Call it before Start.
func (q *Queue) Schedule(name, spec, kind string, args any) error {
	if !validKind.MatchString(name) {
		return fmt.Errorf("schedule %q: not a valid name", name)
	}
	if !validKind.MatchString(kind) {
		return fmt.Errorf("schedule %q: job kind %q is not valid", name, kind)
	}
	sched, err := parser.Parse(spec)
	if err != nil {
		return fmt.Errorf("schedule %q: parse %q: %w", name, spec, err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return fmt.Errorf("schedule %q: the queue has started", name)
	}
	for _, s := range q.schedules {
		if s.name == name {
			return fmt.Errorf("schedule %q: already scheduled", name)
		}
	}
	q.schedules = append(q.schedules, &schedule{name: name, spec: spec, kind: kind, args: args, sched: sched})
	return nil
}

// parser reads cron specs with an optional leading seconds field and
// the @descriptors; robfig/cron is used for parsing only.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Start runs the workers, the lease heartbeat and the cron schedules
// until Stop, or until ctx ends. Ending ctx is an abrupt stop, like a
// crash: handlers are cancelled and nothing more is written, so running
// jobs are taken again by another instance when their lease expires.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return fmt.Errorf("start job queue: %w", ErrStopped)
	}
	if q.started {
		return fmt.Errorf("start job queue: already started")
	}
	q.started = true
	rctx, cancel := context.WithCancel(ctx)
	q.cancel = cancel
	kinds := make([]string, 0, len(q.handlers))
	for k := range q.handlers {
		kinds = append(kinds, k)
	}
	if len(kinds) > 0 {
		q.loops.Add(2)
		go q.fetchLoop(rctx, kinds)
		go q.heartbeatLoop(rctx)
		go q.recordSuccesses(rctx)
	} else {
		close(q.fetchDone)
		close(q.flushed)
	}
	if len(q.schedules) > 0 {
		q.loops.Add(1)
		go q.cronLoop(rctx)
	}
	return nil
}

// Stop shuts the queue down gracefully: it claims nothing more, waits
// for running jobs until ctx ends or DrainTimeout passes, then cancels
// the rest and gives them back (queued, the attempt not counted) so
// another instance runs them at once.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return nil
	}
	q.stopped = true
	started := q.started
	close(q.stop)
	q.mu.Unlock()
	if !started {
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, q.opt.DrainTimeout)
	defer cancel()
	<-q.fetchDone // no new workers after this
	drained := make(chan struct{})
	go func() { q.workers.Wait(); close(drained) }()
	var err error
	select {
	case <-drained:
	case <-dctx.Done():
		err = q.release(context.WithoutCancel(ctx), drained)
	}
	close(q.lastFlush)
	<-q.flushed
	q.cancel()
	q.loops.Wait()
	return err
}

// release cancels the still-running handlers, waits (briefly) for them
// to return, and gives their jobs back.
func (q *Queue) release(ctx context.Context, drained <-chan struct{}) error {
	q.mu.Lock()
	var held []Job
	for _, r := range q.running {
		if !r.lost {
			r.released = true
			held = append(held, r.job)
		}
		r.cancel()
	}
	q.mu.Unlock()
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		// A handler ignores its context: leave its lease to expire
		// rather than let another instance run it at the same time.
		q.log.Warn("job handlers did not stop; their leases are left to expire")
		return fmt.Errorf("stop job queue: handlers did not return after cancellation")
	}
	var firstErr error
	for _, j := range held {
		if err := q.giveBack(ctx, j); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("stop job queue: %w", err)
		}
	}
	return firstErr
}

// wakeLocal nudges this instance's fetcher (a job was enqueued here).
func (q *Queue) wakeLocal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
