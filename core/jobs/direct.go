package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// Running one job on the caller's goroutine. Some work has a caller
// waiting for it (the CLI's import shows progress and a summary; an
// upload is started at once by the instance that took it) but must
// still survive that caller: Do and Take run a job here, under the same
// lease, heartbeat and fencing as a worker's attempt, so that if the
// process dies the lease expires and any instance's workers take the job
// over, and if the caller gives up the job is given back at once. They
// need no started queue (a CLI process runs no workers).

// ErrLeaseLost ends an attempt whose lease another instance took over
// (or that could not be extended in time): its outcome is not recorded.
var ErrLeaseLost = errors.New("job lease lost to another instance")

// ErrHeld refuses Do when a live job already holds its unique key.
var ErrHeld = errors.New("a live job already holds this unique key")

// Do stores a job of kind with args, already claimed by this instance,
// and runs h on it now, on the calling goroutine, holding the lease
// (heartbeats while h runs). Its outcome is recorded as a worker's would
// be. If ctx ends while h runs and h fails, the job is given back
// (queued, the attempt not counted) so any instance runs it at once. It
// returns the job and h's error (ErrLeaseLost when the lease was lost).
// With a UniqueKey held by a live job, it returns that job and ErrHeld.
func (q *Queue) Do(ctx context.Context, kind string, args any, opt EnqueueOptions, h Handler) (Job, error) {
	claimedAt := time.Now()
	j, created, err := enqueue(ctx, q.db, kind, args, opt, nil, &leaseFor{owner: q.opt.Instance, lease: q.opt.Lease})
	if err != nil {
		return Job{}, err
	}
	if !created {
		return j, fmt.Errorf("run job %s now: %w", kind, ErrHeld)
	}
	return j, q.runHere(ctx, j, claimedAt, h)
}

// Take claims the job id for this instance if it is due — queued or
// failed with its run_at passed, or running with an expired lease and
// attempts left — and runs it now, on the calling goroutine, as Do does:
// with h, or the kind's registered handler when h is nil (a kind must be
// registered on this queue to be taken). ran is false when the job was
// not due, held by another instance, or claimed by one in the same
// instant; err is the claim's or the handler's error.
func (q *Queue) Take(ctx context.Context, id string, h Handler) (ran bool, err error) {
	if !validKey.MatchString(id) {
		return false, fmt.Errorf("take job %q: %w", id, ErrNotFound)
	}
	q.mu.Lock()
	kinds := make([]string, 0, len(q.handlers))
	for k := range q.handlers {
		kinds = append(kinds, k)
	}
	q.mu.Unlock()
	claimedAt := time.Now()
	rows, err := store.Query[[]row](ctx, q.db, `UPDATE $id `+claimSet, map[string]any{
		"id": jobID(id), "kinds": kinds, "me": q.opt.Instance, "lease": surrealDuration(q.opt.Lease)})
	if err != nil {
		if errors.Is(err, store.ErrTxConflict) || errors.Is(err, store.ErrConflict) {
			return false, nil // another instance claimed it in the same instant
		}
		return false, fmt.Errorf("take job %s: %w", id, err)
	}
	if len(rows) == 0 {
		return false, nil
	}
	j := rows[0].job()
	if h == nil {
		q.mu.Lock()
		h = q.handlers[j.Kind]
		q.mu.Unlock()
	}
	return true, q.runHere(ctx, j, claimedAt, h)
}

// runHere runs one claimed attempt on the calling goroutine with its own
// heartbeat, and records its outcome while the lease holds.
func (q *Queue) runHere(ctx context.Context, j Job, claimedAt time.Time, h Handler) error {
	jctx, cancel := context.WithCancel(ctx)
	ru := &run{job: j, cancel: cancel, deadline: claimedAt.Add(q.opt.Lease)}
	beats := make(chan struct{})
	go func() { defer close(beats); q.holdLease(jctx, ru) }()
	go q.watchLease(jctx, ru)
	runErr := call(jctx, h, j)
	cancel()
	<-beats
	q.mu.Lock()
	lost := ru.lost
	q.mu.Unlock()
	wctx := context.WithoutCancel(ctx)
	switch {
	case lost:
		return fmt.Errorf("job %s: %w", j.ID, ErrLeaseLost)
	case runErr != nil && ctx.Err() != nil:
		// The caller gave up: hand the job to any instance now.
		if err := q.giveBack(wctx, j); err != nil {
			return errors.Join(runErr, err)
		}
		return runErr
	}
	if err := q.finish(wctx, j, runErr); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}

// holdLease extends one attempt's lease every Heartbeat until ctx ends;
// when another instance holds the job now, it cancels the attempt.
// (watchLease cancels it when no heartbeat got through in time.)
func (q *Queue) holdLease(ctx context.Context, ru *run) {
	t := time.NewTicker(q.opt.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sent := time.Now()
		held, err := store.Query[[]string](ctx, q.db, `UPDATE $id SET lease_until = time::now() + <duration> $lease
			WHERE state = 'running' AND lease_owner = $me AND attempts = $attempt RETURN VALUE record::id(id)`,
			map[string]any{"id": jobID(ru.job.ID), "me": q.opt.Instance, "attempt": ru.job.Attempts,
				"lease": surrealDuration(q.opt.Lease)})
		if err != nil {
			continue // the next beat tries again; watchLease stops the attempt in time
		}
		q.mu.Lock()
		if len(held) == 0 {
			ru.lost = true
		} else {
			ru.deadline = sent.Add(q.opt.Lease)
		}
		lost := ru.lost
		q.mu.Unlock()
		if lost {
			ru.cancel()
			q.log.Warn("job lease was lost; cancelling the attempt", "job", ru.job.ID, "kind", ru.job.Kind)
			return
		}
	}
}
