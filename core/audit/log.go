package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	otellog "go.opentelemetry.io/otel/log"
	lognoop "go.opentelemetry.io/otel/log/noop"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// ErrClosed is returned by Record after Close; it is an
// fault.ErrUnavailable (503), since the process is shutting down.
var ErrClosed = fault.New(fault.ErrUnavailable, "audit log is closed")

// Options tune a Log. The zero value is ready for production.
type Options struct {
	// Logs receives every stored event as an OpenTelemetry log record
	// (after it is stored). Nil means the noop provider.
	Logs otellog.LoggerProvider
	// MaxBatch is the most events one INSERT carries; 500 when zero.
	MaxBatch int
	// MaxDelay is how long the writer waits for more events after the
	// first one of a batch arrived. Zero (the default) waits not at all:
	// the writer takes every event already queued and stores them at
	// once, and events arriving during that insert form the next batch —
	// so batches grow with load while a lone request pays no delay.
	MaxDelay time.Duration
	// WriteTimeout bounds the storing of one batch, retries included;
	// 10s when zero.
	WriteTimeout time.Duration
	// MaxRetries bounds how often a batch is renumbered and retried after
	// another instance took its seq numbers; 50 when zero.
	MaxRetries int
	// PageSize is how many events Verify and the CSV export read per
	// query; 1000 when zero.
	PageSize int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Keys sign new events (HMAC-SHA256 with the active key) and verify
	// stored ones by their key id. Nil writes the unkeyed version-1
	// chain, which anyone with database access can recompute: tests
	// only; core/app always passes the keyring of audit_key_file.
	Keys *Keyring
	// HeadFile, when set, is where the Log keeps the newest head it
	// wrote (an Anchor, JSON, mode 0600), outside the database: Verify
	// then fails when the chain no longer reaches it. It is brought up
	// to date at most every HeadEvery and on Close.
	HeadFile string
	// HeadEvery bounds how often the head file is rewritten; 1s when zero.
	HeadEvery time.Duration
}

func (o Options) withDefaults() Options {
	if o.Logs == nil {
		o.Logs = lognoop.NewLoggerProvider()
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 500
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 50
	}
	if o.PageSize <= 0 {
		o.PageSize = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HeadEvery <= 0 {
		o.HeadEvery = time.Second
	}
	return o
}

// Log is the audit trail of one core instance. It is safe for concurrent
// use. Lifecycle: New starts the writer goroutine; Close drains it. Close
// the Log after the HTTP server and every other producer of events have
// stopped, and before the store.
type Log struct {
	db     *store.DB
	opts   Options
	logger otellog.Logger

	mu     sync.RWMutex // guards closed and sends on reqs
	closed bool
	reqs   chan request
	done   chan struct{} // closed when the writer has exited

	// Owned by the writer goroutine.
	tail      tail
	tailOK    bool
	head      Anchor    // the newest event this Log stored
	headSaved int64     // seq of the head last written to HeadFile
	headAt    time.Time // when HeadFile was last written
}

// request is one Record call waiting for its batch.
type request struct {
	ctx   context.Context
	event Event
	reply chan result
}

type result struct {
	event Event
	err   error
}

// New returns a Log writing to db and starts its writer.
func New(db *store.DB, opts Options) *Log {
	opts = opts.withDefaults()
	l := &Log{
		db:     db,
		opts:   opts,
		logger: opts.Logs.Logger("github.com/pfinni/pfinni/core/audit"),
		reqs:   make(chan request, 4*opts.MaxBatch),
		done:   make(chan struct{}),
	}
	go l.write()
	return l
}

// Record stores e and returns only when it is durably stored (or failed).
// At is set to now (UTC, microseconds); Actor, Role, RequestID and IP are
// taken from actor.From(ctx) where e leaves them empty. When the database
// is down the error wraps store.ErrUnavailable; the caller must then not
// go on with the audited action.
func (l *Log) Record(ctx context.Context, e Event) error {
	a := actor.From(ctx)
	e.At = l.opts.Now().UTC().Truncate(time.Microsecond)
	if e.Actor == "" {
		e.Actor = a.UserID
	}
	if e.Role == "" {
		e.Role = string(a.Role)
	}
	if e.RequestID == "" {
		e.RequestID = a.RequestID
	}
	if e.IP == "" {
		e.IP = a.IP
	}
	e.Seq, e.PrevHash, e.Hash, e.KeyID = 0, "", "", ""
	if err := validateEvent(e); err != nil {
		return fmt.Errorf("record audit event: %w", err)
	}
	req := request{ctx: ctx, event: e, reply: make(chan result, 1)}
	if err := l.enqueue(ctx, req); err != nil {
		return fmt.Errorf("record audit event: %w", err)
	}
	select {
	case r := <-req.reply:
		if r.err != nil {
			return fmt.Errorf("record audit event: %w", r.err)
		}
		l.emit(ctx, r.event)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("record audit event: %w", ctx.Err())
	}
}

func (l *Log) enqueue(ctx context.Context, req request) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	select {
	case l.reqs <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting events and waits until every accepted event is
// stored (or has failed), or ctx ends. It may be called more than once.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.reqs)
	}
	l.mu.Unlock()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close audit log: %w", ctx.Err())
	}
}

// write is the writer goroutine: it gathers batches and stores them.
func (l *Log) write() {
	defer close(l.done)
	defer l.saveHead(true)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	batch := make([]request, 0, l.opts.MaxBatch)
	for {
		first, ok := <-l.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		open := true
		if l.opts.MaxDelay > 0 {
			timer.Reset(l.opts.MaxDelay)
		}
	gather:
		for len(batch) < l.opts.MaxBatch {
			if l.opts.MaxDelay > 0 {
				select {
				case r, more := <-l.reqs:
					if !more {
						open = false
						break gather
					}
					batch = append(batch, r)
				case <-timer.C:
					break gather
				}
				continue
			}
			select {
			case r, more := <-l.reqs:
				if !more {
					open = false
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		timer.Stop()
		l.flush(batch)
		clear(batch) // drop references to finished requests
		if !open {
			return
		}
	}
}

// flush stores one batch and answers each of its callers.
func (l *Log) flush(batch []request) {
	live := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil {
			// The caller gave up before its event was written and did
			// not go on with the action.
			r.reply <- result{err: r.ctx.Err()}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	events := make([]Event, len(live))
	for i, r := range live {
		events[i] = r.event
	}
	err := l.store(events)
	if err == nil {
		last := events[len(events)-1]
		l.head = Anchor{Seq: last.Seq, Hash: last.Hash, KeyID: last.KeyID, At: last.At}
		l.saveHead(false)
	}
	for i, r := range live {
		r.reply <- result{event: events[i], err: err}
	}
}

// saveHead writes the newest head to Options.HeadFile when it changed
// and HeadEvery passed since the last write (or always when final). A
// failure is logged as an OpenTelemetry record, not returned: the events
// are stored, and the next batch tries again.
func (l *Log) saveHead(final bool) {
	if l.opts.HeadFile == "" || l.head.Seq == 0 || l.head.Seq == l.headSaved {
		return
	}
	now := l.opts.Now()
	if !final && now.Sub(l.headAt) < l.opts.HeadEvery {
		return
	}
	if err := writeHeadFile(l.opts.HeadFile, l.head); err != nil {
		l.emitError(err)
		return
	}
	l.headSaved, l.headAt = l.head.Seq, now
}

// store links events to the chain and inserts them, renumbering and
// retrying when another instance appended first.
func (l *Log) store(events []Event) error {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.WriteTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		if !l.tailOK {
			t, err := loadTail(ctx, l.db)
			if err != nil {
				return err
			}
			l.tail, l.tailOK = t, true
		}
		next := link(events, l.tail, l.opts.Keys)
		err := insert(ctx, l.db, events)
		if err == nil {
			l.tail = next
			return nil
		}
		// Whatever happened, the tail in memory may be stale now (a
		// timed-out INSERT may even have committed).
		l.tailOK = false
		if !retryable(err) || attempt >= l.opts.MaxRetries {
			return err
		}
		// Back off a little, with jitter, so two writers stop colliding.
		backoff := time.Duration(1+rand.IntN(1+min(attempt, 10))) * time.Millisecond
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", store.ErrUnavailable, ctx.Err())
		}
	}
}
