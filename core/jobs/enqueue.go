package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// DefaultMaxAttempts is a job's attempts when EnqueueOptions leaves it 0.
const DefaultMaxAttempts = 25

// EnqueueOptions tune one job; the zero value runs it now, once per
// attempt up to DefaultMaxAttempts, at priority 0, without a unique key.
type EnqueueOptions struct {
	// RunAt is the earliest time the job may run; zero means now (the
	// database's clock).
	RunAt time.Time
	// Priority orders ready jobs: a lower number runs first (0 by
	// default; negative for urgent work).
	Priority int
	// MaxAttempts bounds the attempts before the job is dead.
	MaxAttempts int
	// UniqueKey, when set, makes the enqueue return the existing job
	// while one with the same key is queued, running or waiting for a
	// retry. It names records (e.g. "alert:patient/p_123:2026-12-03"),
	// never patient identifiers.
	UniqueKey string
}

// Enqueue stores a job of kind with args (marshalled to JSON) and returns
// it; with a UniqueKey that is already held by a live job, it returns
// that job instead.
func (q *Queue) Enqueue(ctx context.Context, kind string, args any, opt EnqueueOptions) (Job, error) {
	return Enqueue(ctx, q.db, kind, args, opt, q.wakeLocal)
}

// Enqueue is Queue.Enqueue for callers that hold only the database (the
// CLI, other packages' tests); wake, when not nil, is called after a new
// job was stored.
func Enqueue(ctx context.Context, db *store.DB, kind string, args any, opt EnqueueOptions, wake func()) (Job, error) {
	if !validKind.MatchString(kind) {
		return Job{}, fault.Field("kind", "a job kind is lower-case letters, digits and . _ : - (at most 64)")
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return Job{}, fmt.Errorf("enqueue %s: encode arguments: %w", kind, err)
	}
	if args == nil {
		raw = []byte("{}")
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = DefaultMaxAttempts
	}
	if len(opt.UniqueKey) > 200 {
		return Job{}, fault.Field("unique_key", "a unique key is at most 200 characters")
	}
	vars := map[string]any{"kind": kind, "args": string(raw), "priority": opt.Priority, "max": opt.MaxAttempts}
	fields := []string{"kind: $kind", "args: $args", "state: 'queued'", "priority: $priority", "attempts: 0",
		"max_attempts: $max", "created_at: time::now()", "updated_at: time::now()"}
	if opt.RunAt.IsZero() {
		fields = append(fields, "run_at: time::now()")
	} else {
		fields = append(fields, "run_at: <datetime> $run_at")
		vars["run_at"] = opt.RunAt.UTC().Format(time.RFC3339Nano)
	}
	if opt.UniqueKey != "" {
		fields = append(fields, "unique_key: $key")
		vars["key"] = opt.UniqueKey
	}
	sql := "CREATE job CONTENT {" + strings.Join(fields, ", ") + "} RETURN " + jobFields
	for try := 0; ; try++ {
		rows, err := store.Query[[]row](ctx, db, sql, vars)
		if err == nil && len(rows) == 1 {
			if wake != nil {
				wake()
			}
			return rows[0].job(), nil
		}
		if err == nil {
			return Job{}, fmt.Errorf("enqueue %s: the database returned %d jobs", kind, len(rows))
		}
		if opt.UniqueKey == "" || errors.Is(err, store.ErrUnavailable) {
			return Job{}, fmt.Errorf("enqueue %s: %w", kind, err)
		}
		// The unique index refused the key, or a concurrent insert of
		// the same key won the transaction: return the live job that
		// holds it. It may have finished (and released the key) in
		// between; then try the insert again.
		held, herr := store.Query[[]row](ctx, db, "SELECT "+jobFields+" FROM job WHERE unique_key = $key",
			map[string]any{"key": opt.UniqueKey})
		if herr != nil {
			return Job{}, fmt.Errorf("enqueue %s: find the job holding its unique key: %w", kind, herr)
		}
		if len(held) > 0 {
			return held[0].job(), nil
		}
		if try >= 5 {
			return Job{}, fmt.Errorf("enqueue %s: %w", kind, err)
		}
	}
}
