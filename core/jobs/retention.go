package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// RetentionKind is the built-in job that deletes finished jobs past
// their retention; RegisterRetention schedules it hourly.
const RetentionKind = "jobs.retention"

// Retention says how long finished jobs are kept.
type Retention struct {
	Succeeded time.Duration // 24h when 0
	Dead      time.Duration // 30 days when 0 (kept for the audit of failures)
}

// RegisterRetention registers the retention handler on q and schedules
// it every hour (one run per hour across all instances).
func RegisterRetention(q *Queue, r Retention) error {
	if r.Succeeded <= 0 {
		r.Succeeded = 24 * time.Hour
	}
	if r.Dead <= 0 {
		r.Dead = 30 * 24 * time.Hour
	}
	if err := q.Register(RetentionKind, HandlerFunc(func(ctx context.Context, _ Job) error {
		_, err := PurgeFinished(ctx, q.db, r)
		return err
	})); err != nil {
		return err
	}
	return q.Schedule(RetentionKind, "@hourly", RetentionKind, nil)
}

// PurgeFinished deletes succeeded and dead jobs older than r says and
// returns how many it deleted. Queued, running and failed jobs are never
// touched.
func PurgeFinished(ctx context.Context, db *store.DB, r Retention) (int, error) {
	gone, err := store.Query[[]struct{}](ctx, db, `DELETE job WHERE
		(state = 'succeeded' AND finished_at < time::now() - <duration> $ok)
		OR (state = 'dead' AND finished_at < time::now() - <duration> $dead)
		RETURN BEFORE`,
		map[string]any{"ok": surrealDuration(r.Succeeded), "dead": surrealDuration(r.Dead)})
	if err != nil {
		return 0, fmt.Errorf("purge finished jobs: %w", err)
	}
	return len(gone), nil
}
