// Package store is pfinni's connection to SurrealDB, the system of record.
//
// It owns the client connection (the official Go client over WebSocket
// RPC), reconnects by itself when the database goes away, applies the
// schema (schema/*.surql, the one place where tables, fields, ASSERTs and
// indexes are defined) idempotently at start, and maps database failures
// to errors the API layer turns into status codes: ErrUnavailable (503),
// ErrConflict (409 on a unique index).
//
// Any core package may import store; plugins and the SDK never do.
//
// SurrealDB documentation this package follows:
//   - https://surrealdb.com/docs/surrealdb/integration/rpc (RPC over WebSocket, CBOR)
//   - https://surrealdb.com/docs/sdk/golang (the Go SDK, surrealdb.go)
//   - https://surrealdb.com/docs/surrealql/statements/define/table
//   - https://surrealdb.com/docs/surrealql/statements/define/field
//   - https://surrealdb.com/docs/surrealql/statements/define/indexes
//   - https://surrealdb.com/docs/surrealql/statements/live
//   - https://surrealdb.com/docs/surrealql/statements/begin (transactions)
package store

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pfinni/pfinni/core/fault"
	surrealdb "github.com/surrealdb/surrealdb.go"
	"github.com/surrealdb/surrealdb.go/pkg/connection"
	"github.com/surrealdb/surrealdb.go/pkg/models"
)

//go:embed schema/*.surql
var schemaFS embed.FS

// schema is every file of schema/ in name order: the one place where the
// tables, fields, ASSERTs and indexes are defined.
var schema = func() string {
	entries, err := fs.ReadDir(schemaFS, "schema")
	if err != nil {
		panic(err)
	}
	var b strings.Builder
	for _, e := range entries {
		data, err := fs.ReadFile(schemaFS, "schema/"+e.Name())
		if err != nil {
			panic(err)
		}
		b.Write(data)
		b.WriteString("\n")
	}
	return b.String()
}()

// Schema returns the SurrealQL that defines every table, field and index.
func Schema() string { return schema }

// Sentinel errors callers decide on.
var (
	// ErrUnavailable means the database did not answer; retry later.
	ErrUnavailable = fault.New(fault.ErrUnavailable, "database unavailable")
	// ErrConflict means a unique index refused the write.
	ErrConflict = fault.New(fault.ErrConflict, "unique constraint violated")
	// ErrTxConflict means a transaction collided with a concurrent one
	// and may be retried as is. It is no fault kind: a caller that gives
	// up on it reports a server error.
	ErrTxConflict = errors.New("transaction conflict: can be retried")
	// ErrNotFound means the record does not exist.
	ErrNotFound = fault.New(fault.ErrNotFound, "record not found")
)

// Config says which database to use and how to sign in.
type Config struct {
	// URL returns the current RPC base URL (ws://host:port); a function
	// because the embedded engine's port changes when it is restarted.
	URL       func() string
	Namespace string
	Database  string
	// User and Password sign in (the embedded engine's per-start root
	// credential, or a user of the external server); no sign-in when User
	// is empty.
	User     string
	Password string
	// AuthLevel is where User is defined: "root" (also when empty),
	// "namespace" (Namespace) or "database" (Namespace and Database).
	AuthLevel string
	Logger    *slog.Logger
	// QueryTimeout bounds each call when the caller's context has no
	// deadline; 10s when zero.
	QueryTimeout time.Duration
	// PingEvery is how often a health probe runs; 1s when zero.
	PingEvery time.Duration
}

// DB is a self-healing handle on one SurrealDB namespace/database.
type DB struct {
	cfg Config

	mu   sync.RWMutex
	conn *surrealdb.DB

	ready     atomic.Bool
	schemaOK  atomic.Bool
	reconnect chan struct{}
	closed    chan struct{}
	wg        sync.WaitGroup

	hookMu sync.Mutex
	hooks  []func(ctx context.Context)
}

// Open connects, applies the schema and starts the health loop. It fails
// if the database cannot be reached within ctx.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.QueryTimeout == 0 {
		cfg.QueryTimeout = 10 * time.Second
	}
	if cfg.PingEvery == 0 {
		cfg.PingEvery = time.Second
	}
	if cfg.Namespace == "" || cfg.Database == "" {
		return nil, fmt.Errorf("open database: namespace and database are required")
	}
	d := &DB{cfg: cfg, reconnect: make(chan struct{}, 1), closed: make(chan struct{})}
	if err := d.connect(ctx); err != nil {
		return nil, err
	}
	if err := d.ApplySchema(ctx); err != nil {
		d.closeConn()
		return nil, err
	}
	d.wg.Add(1)
	go d.health()
	return d, nil
}

func (d *DB) connect(ctx context.Context) error {
	u, err := url.ParseRequestURI(d.cfg.URL())
	if err != nil {
		return fmt.Errorf("connect database: bad URL: %w", err)
	}
	conf := connection.NewConfig(u)
	conf.Logger = nil
	c, err := surrealdb.FromConnection(ctx, newWSConn(conf))
	if err != nil {
		return fmt.Errorf("connect database: %w: %w", ErrUnavailable, err)
	}
	if d.cfg.User != "" {
		if _, err := c.SignIn(ctx, signinParams(d.cfg)); err != nil {
			_ = c.Close(context.Background())
			return fmt.Errorf("sign in to database as %q (%s level): %w", d.cfg.User, cmp.Or(d.cfg.AuthLevel, "root"), err)
		}
	}
	if err := c.Use(ctx, d.cfg.Namespace, d.cfg.Database); err != nil {
		_ = c.Close(context.Background())
		return fmt.Errorf("use namespace %q database %q: %w", d.cfg.Namespace, d.cfg.Database, err)
	}
	d.mu.Lock()
	old := d.conn
	d.conn = c
	d.mu.Unlock()
	if old != nil {
		_ = old.Close(context.Background())
	}
	d.ready.Store(true)
	return nil
}

func (d *DB) closeConn() {
	d.mu.Lock()
	c := d.conn
	d.conn = nil
	d.mu.Unlock()
	if c != nil {
		_ = c.Close(context.Background())
	}
}

// ApplySchema runs the schema; every statement is idempotent.
func (d *DB) ApplySchema(ctx context.Context) error {
	if err := d.Exec(ctx, schema, nil); err != nil {
		d.schemaOK.Store(false)
		return fmt.Errorf("apply schema: %w", err)
	}
	d.schemaOK.Store(true)
	return nil
}

// OnReconnect registers f to run after the connection was re-established
// (live queries must be started again, caches refreshed). f runs in the
// health goroutine; it must not block for long.
func (d *DB) OnReconnect(f func(ctx context.Context)) {
	d.hookMu.Lock()
	d.hooks = append(d.hooks, f)
	d.hookMu.Unlock()
}

// Ready reports whether the database answers and the schema is applied.
func (d *DB) Ready() bool { return d.ready.Load() && d.schemaOK.Load() }

// Ping asks the database for a trivial answer.
func (d *DB) Ping(ctx context.Context) error {
	return d.Exec(ctx, "RETURN 1", nil)
}

func (d *DB) health() {
	defer d.wg.Done()
	t := time.NewTicker(d.cfg.PingEvery)
	defer t.Stop()
	slow := 0 // consecutive pings that timed out on a live connection
	for {
		select {
		case <-d.closed:
			return
		case <-t.C:
		case <-d.reconnect:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if d.ready.Load() || slow > 0 {
			err := d.Ping(ctx)
			if err == nil {
				slow = 0
				d.ready.Store(true)
				cancel()
				continue
			}
			if errors.Is(err, context.DeadlineExceeded) && slow < 3 {
				// Busy, not gone: stay ready for a few slow pings, then
				// report not ready until it answers again.
				slow++
				if slow == 3 {
					d.ready.Store(false)
				}
				cancel()
				continue
			}
		}
		slow = 0
		d.ready.Store(false)
		if err := d.connect(ctx); err != nil {
			d.cfg.Logger.Warn("database unreachable; retrying", "err", err)
			cancel()
			continue
		}
		if err := d.ApplySchema(ctx); err != nil {
			d.cfg.Logger.Error("reapply schema after reconnect", "err", err)
		}
		cancel()
		d.cfg.Logger.Info("database connection restored")
		d.hookMu.Lock()
		hooks := append([]func(context.Context){}, d.hooks...)
		d.hookMu.Unlock()
		for _, h := range hooks {
			hctx, hcancel := context.WithTimeout(context.Background(), 30*time.Second)
			h(hctx)
			hcancel()
		}
	}
}

// Close stops the health loop and closes the connection.
func (d *DB) Close() error {
	select {
	case <-d.closed:
		return nil
	default:
	}
	close(d.closed)
	d.wg.Wait()
	d.closeConn()
	d.ready.Store(false)
	return nil
}

// Conn returns the underlying client for the rare caller that needs an
// API this package does not wrap (live queries). It may be nil while the
// database is unreachable.
func (d *DB) Conn() (*surrealdb.DB, error) {
	d.mu.RLock()
	c := d.conn
	d.mu.RUnlock()
	if c == nil || !d.ready.Load() {
		return nil, ErrUnavailable
	}
	return c, nil
}

func (d *DB) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d.cfg.QueryTimeout)
}

// Exec runs SurrealQL whose results are not needed. Any statement error
// fails the call.
func (d *DB) Exec(ctx context.Context, sql string, vars map[string]any) error {
	_, err := Query[any](ctx, d, sql, vars)
	return err
}

// Query runs SurrealQL and decodes the result of its LAST statement into T
// (usually a slice of structs). Errors of any statement fail the call.
func Query[T any](ctx context.Context, d *DB, sql string, vars map[string]any) (T, error) {
	var zero T
	c, err := d.Conn()
	if err != nil {
		return zero, err
	}
	ctx, cancel := d.withTimeout(ctx)
	defer cancel()
	res, err := guard(func() (*[]surrealdb.QueryResult[T], error) { return surrealdb.Query[T](ctx, c, sql, vars) })
	if err != nil {
		return zero, d.classify(err)
	}
	if res == nil || len(*res) == 0 {
		return zero, nil
	}
	return (*res)[len(*res)-1].Result, nil
}

// QueryAll runs SurrealQL and decodes every statement's result into T.
func QueryAll[T any](ctx context.Context, d *DB, sql string, vars map[string]any) ([]T, error) {
	c, err := d.Conn()
	if err != nil {
		return nil, err
	}
	ctx, cancel := d.withTimeout(ctx)
	defer cancel()
	res, err := guard(func() (*[]surrealdb.QueryResult[T], error) { return surrealdb.Query[T](ctx, c, sql, vars) })
	if err != nil {
		return nil, d.classify(err)
	}
	out := make([]T, 0, len(*res))
	for _, r := range *res {
		out = append(out, r.Result)
	}
	return out, nil
}

// classify maps client errors to the package's sentinel errors and asks
// the health loop to check the connection when the error looks like one.
func (d *DB) classify(err error) error {
	var qe *surrealdb.QueryError
	var re *connection.RPCError
	if errors.As(err, &qe) || errors.As(err, &re) {
		msg, kind := describeErr(err)
		// A THROW of one of pfinni's own markers may sit in any statement
		// of a transaction, behind "not executed" errors of the others:
		// find it in the whole chain and make it a typed error.
		if m := thrownMarker.FindStringSubmatch(err.Error()); m != nil {
			th := &Thrown{Marker: m[1]}
			if kind == nil {
				kind = th
			} else {
				kind = errors.Join(kind, th)
			}
			msg = th.Error() + "; " + msg
		}
		if kind == nil {
			return &redacted{msg: msg, err: err}
		}
		if kind == ErrConflict {
			msg = ErrConflict.Error() + ": " + msg
		}
		return &redacted{msg: msg, err: errors.Join(kind, err)}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The caller gave up, or the query ran past its time limit: the
		// database is slow or the caller impatient, but the connection
		// is fine, so no reconnect. A timeout still answers 503.
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w: query timed out: %w", ErrUnavailable, err)
		}
		return err
	}
	// Anything else (closed or reset sockets, refused connections) means
	// the connection is gone: have the health loop reconnect at once.
	d.ready.Store(false)
	select {
	case d.reconnect <- struct{}{}:
	default:
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// signinParams is the signin request for cfg's user at its level: root
// users give user and pass only; namespace and database users also name
// where they are defined.
func signinParams(cfg Config) map[string]any {
	p := map[string]any{"user": cfg.User, "pass": cfg.Password}
	switch cfg.AuthLevel {
	case "namespace":
		p["NS"] = cfg.Namespace
	case "database":
		p["NS"], p["DB"] = cfg.Namespace, cfg.Database
	}
	return p
}

// RecordID builds the record id table:key.
func RecordID(table, key string) models.RecordID {
	return models.NewRecordID(table, key)
}

// Key returns the key part of a record id as a string.
func Key(id models.RecordID) string {
	if s, ok := id.ID.(string); ok {
		return s
	}
	return fmt.Sprint(id.ID)
}

// errConnClosed stands for the client library's panic on a closed
// connection (v1.3.0 dereferences a nil response when a call races a
// close); guard turns it into an ordinary error.
var errConnClosed = errors.New("connection closed")

func guard[T any](f func() (T, error)) (res T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errConnClosed
		}
	}()
	return f()
}

// redacted is a database error whose text has its values removed; the
// original stays reachable with errors.As for callers that decide on it.
// Thrown is a THROW of one of pfinni's own constant markers
// ("pfinni:stale") inside a query: a decision the query made, not a
// database failure. Test for it with IsThrown.
type Thrown struct {
	Marker string
}

func (e *Thrown) Error() string { return "the query threw " + e.Marker }

// IsThrown reports whether err carries a THROW of marker.
func IsThrown(err error, marker string) bool {
	var th *Thrown
	return errors.As(err, &th) && th.Marker == marker
}

// thrownMarker finds pfinni's THROW markers in the engine's text (they
// are constants, never values).
var thrownMarker = regexp.MustCompile(`An error occurred: (pfinni:[A-Za-z0-9_.:-]{1,64})`)

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }
