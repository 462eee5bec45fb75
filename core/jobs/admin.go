package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Filter selects jobs for List; zero fields match everything.
type Filter struct {
	State State
	Kind  string
	// Limit bounds the items returned (50 when 0, at most 500); Offset
	// skips that many, newest first.
	Limit  int
	Offset int
}

// Auditor records audit events (*audit.Log).
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Admin is the read and retry side of the queue, for the admin API, the
// page and the CLI; it needs only the database (no running workers).
type Admin struct {
	db  *store.DB
	aud Auditor
}

// NewAdmin returns the admin side of the queue stored in db. With an
// auditor (nil for none), every retry is audited as job.retry by the
// actor in the context.
func NewAdmin(db *store.DB, aud Auditor) *Admin { return &Admin{db: db, aud: aud} }

// List returns the jobs matching f, newest first, and how many match.
func (a *Admin) List(ctx context.Context, f Filter) ([]Job, int, error) {
	if f.State != "" && !f.State.Valid() {
		return nil, 0, fault.Field("state", "state is one of queued, running, succeeded, failed, dead")
	}
	if f.Kind != "" && !validKind.MatchString(f.Kind) {
		return nil, 0, fault.Field("kind", "not a job kind")
	}
	switch {
	case f.Limit <= 0:
		f.Limit = 50
	case f.Limit > 500:
		f.Limit = 500
	}
	f.Offset = max(f.Offset, 0)
	var where []string
	vars := map[string]any{"limit": f.Limit, "start": f.Offset}
	if f.State != "" {
		where = append(where, "state = $state")
		vars["state"] = string(f.State)
	}
	if f.Kind != "" {
		where = append(where, "kind = $kind")
		vars["kind"] = f.Kind
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	type counted struct {
		N int `json:"n"`
	}
	rows, err := store.Query[[]row](ctx, a.db, "SELECT "+jobFields+" FROM job"+cond+
		" ORDER BY created_at DESC LIMIT $limit START $start", vars)
	if err != nil {
		return nil, 0, fmt.Errorf("list jobs: %w", err)
	}
	n, err := store.Query[[]counted](ctx, a.db, "SELECT count() AS n FROM job"+cond+" GROUP ALL", vars)
	if err != nil {
		return nil, 0, fmt.Errorf("count jobs: %w", err)
	}
	out := make([]Job, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.job())
	}
	total := 0
	if len(n) > 0 {
		total = n[0].N
	}
	return out, total, nil
}

// Get returns one job.
func (a *Admin) Get(ctx context.Context, id string) (Job, error) {
	if !validKey.MatchString(id) {
		return Job{}, ErrNotFound
	}
	rows, err := store.Query[[]row](ctx, a.db, "SELECT "+jobFields+" FROM $id", map[string]any{"id": jobID(id)})
	if err != nil {
		return Job{}, fmt.Errorf("get job %s: %w", id, err)
	}
	if len(rows) == 0 {
		return Job{}, ErrNotFound
	}
	return rows[0].job(), nil
}

// Retry puts a dead job back in the queue with a fresh set of attempts
// (its last error is kept for the record). Only dead jobs can be
// retried (ErrNotDead).
func (a *Admin) Retry(ctx context.Context, id string) (Job, error) {
	if !validKey.MatchString(id) {
		return Job{}, ErrNotFound
	}
	rows, err := store.Query[[]row](ctx, a.db, `UPDATE $id SET state = 'queued', attempts = 0, run_at = time::now(),
		finished_at = NONE, updated_at = time::now() WHERE state = 'dead' RETURN `+jobFields,
		map[string]any{"id": jobID(id)})
	if err != nil {
		return Job{}, fmt.Errorf("retry job %s: %w", id, err)
	}
	if len(rows) == 1 {
		j := rows[0].job()
		if a.aud != nil {
			if err := a.aud.Record(ctx, audit.Event{Action: "job.retry", Resource: "job", Record: j.ID,
				Outcome: audit.OutcomeSuccess, Detail: j.Kind}); err != nil {
				return Job{}, fmt.Errorf("retry job %s: %w", id, err)
			}
		}
		return j, nil
	}
	if _, err := a.Get(ctx, id); err != nil {
		return Job{}, err
	}
	return Job{}, ErrNotDead
}
