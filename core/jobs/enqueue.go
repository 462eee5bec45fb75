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
	j, _, err := enqueue(ctx, db, kind, args, opt, wake, nil)
	return j, err
}

// leaseFor creates a job already claimed: running, attempt 1, leased to
// owner (Queue.Do).
type leaseFor struct {
	owner string
	lease time.Duration
}

// enqueue stores a job (claimed when held is not nil); created is false
// when a live job holding opt.UniqueKey was returned instead.
func enqueue(ctx context.Context, db *store.DB, kind string, args any, opt EnqueueOptions, wake func(), held *leaseFor) (_ Job, created bool, _ error) {
	if !validKind.MatchString(kind) {
		return Job{}, false, fault.Field("kind", "a job kind is lower-case letters, digits and . _ : - (at most 64)")
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return Job{}, false, fmt.Errorf("enqueue %s: encode arguments: %w", kind, err)
	}
	if args == nil {
		raw = []byte("{}")
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = DefaultMaxAttempts
	}
	if len(opt.UniqueKey) > 200 {
		return Job{}, false, fault.Field("unique_key", "a unique key is at most 200 characters")
	}
	vars := map[string]any{"kind": kind, "args": string(raw), "priority": opt.Priority, "max": opt.MaxAttempts}
	fields := []string{"kind: $kind", "args: $args", "priority: $priority",
		"max_attempts: $max", "created_at: time::now()", "updated_at: time::now()"}
	if held == nil {
		fields = append(fields, "state: 'queued'", "attempts: 0")
	} else {
		fields = append(fields, "state: 'running'", "attempts: 1", "lease_owner: $me",
			"lease_until: time::now() + <duration> $lease")
		vars["me"], vars["lease"] = held.owner, surrealDuration(held.lease)
	}
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
			return rows[0].job(), true, nil
		}
		if err == nil {
			return Job{}, false, fmt.Errorf("enqueue %s: the database returned %d jobs", kind, len(rows))
		}
		if opt.UniqueKey == "" || errors.Is(err, store.ErrUnavailable) {
			return Job{}, false, fmt.Errorf("enqueue %s: %w", kind, err)
		}
		// The unique index refused the key, or a concurrent insert of
		// the same key won the transaction: return the live job that
		// holds it. It may have finished (and released the key) in
		// between; then try the insert again.
		live, herr := store.Query[[]row](ctx, db, "SELECT "+jobFields+" FROM job WHERE unique_key = $key",
			map[string]any{"key": opt.UniqueKey})
		if herr != nil {
			return Job{}, false, fmt.Errorf("enqueue %s: find the job holding its unique key: %w", kind, herr)
		}
		if len(live) > 0 {
			return live[0].job(), false, nil
		}
		if try >= 5 {
			return Job{}, false, fmt.Errorf("enqueue %s: %w", kind, err)
		}
	}
}
