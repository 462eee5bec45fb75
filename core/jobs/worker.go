package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// claimSQL takes up to $n due jobs of this instance's kinds: queued jobs
// and failed ones whose retry time has come, and running jobs whose
// lease expired (their instance died) with attempts left.
//
// SurrealDB's UPDATE has no ORDER BY … LIMIT, so the candidates come
// from sub-selects, one per state so that each is a scan of the index
// job_ready (state, priority, run_at) in its order — lowest priority
// number, then oldest run_at, first — with no sort. A few more than $n
// are read and shuffled, so that instances claiming at the same moment
// mostly pick different jobs. The UPDATE's own WHERE repeats the state
// check: that is the compare-and-swap. A job another instance claimed
// in between is skipped, and two claims racing for one record conflict
// in the database, where one of them fails as a whole and is retried.
const claimSQL = `UPDATE array::slice(array::concat(
		(SELECT VALUE id FROM job WITH INDEX job_ready WHERE state = 'queued' AND run_at <= time::now() AND kind IN $kinds LIMIT $k),
		(SELECT VALUE id FROM job WITH INDEX job_ready WHERE state = 'failed' AND run_at <= time::now() AND kind IN $kinds LIMIT $k),
		(SELECT VALUE id FROM job WITH INDEX job_ready WHERE state = 'running' AND lease_until < time::now() AND attempts < max_attempts
			AND kind IN $kinds LIMIT $k)), 0, $n) ` + claimSet

// claimSet is the compare-and-swap of every claim: the state check is
// repeated in the UPDATE's own WHERE, so a job another instance claimed
// in between is skipped.
const claimSet = `SET last_error = IF state = 'running' THEN 'lease expired: the worker stopped or crashed' ELSE last_error END,
		state = 'running', lease_owner = $me, lease_until = time::now() + <duration> $lease,
		attempts += 1, updated_at = time::now()
	WHERE kind IN $kinds AND (
		(state IN ['queued', 'failed'] AND run_at <= time::now())
		OR (state = 'running' AND lease_until < time::now() AND attempts < max_attempts))
	RETURN ` + jobFields

func (q *Queue) fetchLoop(ctx context.Context, kinds []string) {
	defer q.loops.Done()
	defer close(q.fetchDone)
	slots := make(chan struct{}, q.opt.Workers)
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.stop:
			return
		default:
		}
		free := q.opt.Workers - len(slots)
		if free == 0 {
			// Wait for a worker to finish (it sends on wake).
			if !q.sleep(ctx, q.opt.PollInterval) {
				return
			}
			continue
		}
		// Claim a batch even when fewer workers are free: the jobs
		// beyond them wait here for a worker, their leases extended by
		// the heartbeat like running ones (fewer round trips per job).
		n := q.opt.Batch
		// The lease runs from the database's clock at the claim, which
		// is after this moment: measured from here, the local estimate
		// of its end is never late.
		claimedAt := time.Now()
		claimed, err := store.Query[[]row](ctx, q.db, claimSQL, map[string]any{
			"kinds": kinds, "n": n, "k": n, "me": q.opt.Instance, "lease": surrealDuration(q.opt.Lease)})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Most often another instance claimed the same jobs in the
			// same instant (a transaction conflict); try again soon. A
			// database that is down is retried at the poll interval.
			failures++
			wait := time.Duration(5+rand.IntN(45)) * time.Millisecond
			if failures > 5 || errors.Is(err, store.ErrUnavailable) {
				wait = q.opt.PollInterval
				q.log.Debug("claim jobs", "err", err)
			}
			if !q.sleep(ctx, wait) {
				return
			}
			continue
		}
		failures = 0
		if len(claimed) == 0 {
			if !q.sleep(ctx, q.opt.PollInterval) {
				return
			}
			continue
		}
		runs := make([]*run, len(claimed))
		q.mu.Lock()
		for i, r := range claimed {
			j := r.job()
			jctx, cancel := context.WithCancel(ctx)
			runs[i] = &run{job: j, cancel: cancel, deadline: claimedAt.Add(q.opt.Lease), ctx: jctx}
			q.running[j.ID] = runs[i]
		}
		q.mu.Unlock()
		for i, ru := range runs {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return // crashed: the leases expire
			case <-q.stop:
				q.giveBackUnstarted(ctx, runs[i:])
				return
			}
			q.workers.Add(1)
			go func() {
				defer q.workers.Done()
				defer func() { <-slots; q.wakeLocal() }()
				q.runJob(ctx, ru.ctx, ru)
			}()
		}
	}
}

// giveBackUnstarted returns claimed jobs that never got a worker (the
// queue is stopping) so that any instance runs them at once.
func (q *Queue) giveBackUnstarted(ctx context.Context, runs []*run) {
	q.mu.Lock()
	for _, ru := range runs {
		delete(q.running, ru.job.ID)
		ru.cancel()
	}
	q.mu.Unlock()
	for _, ru := range runs {
		if err := q.giveBack(context.WithoutCancel(ctx), ru.job); err != nil {
			q.log.Warn("give back an unstarted job", "job", ru.job.ID, "err", err)
		}
	}
}

// sleep waits d, or less when woken; false when the loop must end.
func (q *Queue) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-q.stop:
		return false
	case <-q.wake:
		return true
	case <-t.C:
		return true
	}
}

// runJob runs one attempt and writes its outcome while the lease holds.
func (q *Queue) runJob(qctx, jctx context.Context, ru *run) {
	j := ru.job
	q.mu.Lock()
	h := q.handlers[j.Kind]
	// A job that waited for a worker may have lost its lease meanwhile
	// (or be too close to losing it): never start it then, so that it
	// cannot run beside the instance that takes it over.
	stale := ru.lost || ru.released || jctx.Err() != nil || qctx.Err() != nil ||
		!time.Now().Before(ru.deadline.Add(-q.opt.Heartbeat))
	if stale {
		ru.lost = true
		delete(q.running, j.ID)
	}
	q.mu.Unlock()
	if stale {
		ru.cancel()
		return
	}
	go q.watchLease(jctx, ru)
	err := call(jctx, h, j)
	ru.cancel()
	q.mu.Lock()
	delete(q.running, j.ID)
	skip := ru.lost || ru.released
	q.mu.Unlock()
	if qctx.Err() != nil || skip {
		// Crashed (abrupt stop), lost the lease, or given back by Stop:
		// whoever holds the job now decides its outcome.
		return
	}
	if err == nil {
		select {
		case q.succeeded <- j:
		case <-qctx.Done():
		}
		return
	}
	if err := q.finish(context.WithoutCancel(qctx), j, err); err != nil {
		q.log.Warn("record job outcome", "job", j.ID, "kind", j.Kind, "err", err)
	}
}

// giveBack returns a job this instance holds to the queue (queued, the
// attempt not counted) so that any instance runs it at once.
func (q *Queue) giveBack(ctx context.Context, j Job) error {
	_, err := store.Query[[]string](ctx, q.db, `UPDATE $id SET state = 'queued', attempts = attempts - 1,
		lease_owner = '', lease_until = NONE, run_at = time::now(), updated_at = time::now()
		WHERE state = 'running' AND lease_owner = $me AND attempts = $attempt RETURN VALUE record::id(id)`,
		map[string]any{"id": jobID(j.ID), "me": q.opt.Instance, "attempt": j.Attempts})
	if err != nil {
		return fmt.Errorf("give back job %s: %w", j.ID, err)
	}
	return nil
}

// watchLease cancels the attempt one heartbeat interval before its
// lease would expire unless a heartbeat has extended it meanwhile, so
// that an attempt whose lease another instance may take over has
// stopped by then, however late the heartbeats are.
func (q *Queue) watchLease(ctx context.Context, ru *run) {
	for {
		q.mu.Lock()
		deadline := ru.deadline
		q.mu.Unlock()
		wait := time.Until(deadline.Add(-q.opt.Heartbeat))
		if wait <= 0 {
			q.mu.Lock()
			expired := !ru.deadline.After(deadline) && !ru.lost && !ru.released
			if expired {
				ru.lost = true
			}
			q.mu.Unlock()
			if expired {
				ru.cancel()
				q.log.Warn("job lease could not be extended in time; cancelling the attempt", "job", ru.job.ID, "kind", ru.job.Kind)
				return
			}
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// call runs h, turning a panic into an error.
func call(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			stack := debug.Stack()
			if len(stack) > 2000 {
				stack = stack[:2000]
			}
			err = fmt.Errorf("handler panicked: %v\n%s", r, stack)
		}
	}()
	if h == nil {
		return Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
	}
	return h.Work(ctx, j)
}

// finish writes the attempt's outcome, fenced by the lease owner and the
// attempt number: a write for an attempt that lost its lease changes
// nothing. It retries transaction conflicts (a heartbeat on the same
// record) a few times.
func (q *Queue) finish(ctx context.Context, j Job, runErr error) error {
	vars := map[string]any{"id": jobID(j.ID), "me": q.opt.Instance, "attempt": j.Attempts}
	var sql string
	switch {
	case runErr == nil:
		sql = `UPDATE $id SET state = 'succeeded', lease_owner = '', lease_until = NONE, unique_key = NONE,
			finished_at = time::now(), updated_at = time::now()`
	case j.Attempts >= j.MaxAttempts || IsPermanent(runErr):
		sql = `UPDATE $id SET state = 'dead', last_error = $error, lease_owner = '', lease_until = NONE,
			unique_key = NONE, finished_at = time::now(), updated_at = time::now()`
		vars["error"] = errorText(runErr)
	default:
		sql = `UPDATE $id SET state = 'failed', last_error = $error, lease_owner = '', lease_until = NONE,
			run_at = time::now() + <duration> $delay, updated_at = time::now()`
		vars["error"] = errorText(runErr)
		vars["delay"] = surrealDuration(retryDelay(q.opt.Backoff, j.Attempts, runErr))
	}
	sql += ` WHERE state = 'running' AND lease_owner = $me AND attempts = $attempt RETURN VALUE record::id(id)`
	var err error
	for try := 0; try < 6; try++ {
		var done []string
		done, err = store.Query[[]string](ctx, q.db, sql, vars)
		if err == nil {
			if len(done) == 0 {
				q.log.Warn("job lease was lost before its outcome was recorded", "job", j.ID, "kind", j.Kind)
			}
			return nil
		}
		time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond << try)
	}
	return fmt.Errorf("finish job %s: %w", j.ID, err)
}

// recordSuccesses writes successful attempts in batches (one statement
// for up to 64 jobs), each fenced like finish. It returns when the queue
// crashes (ctx ends: what is not yet written runs again elsewhere) or,
// after a last flush, when Stop asks.
func (q *Queue) recordSuccesses(ctx context.Context) {
	defer close(q.flushed)
	var batch []Job
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := q.finishBatch(context.WithoutCancel(ctx), batch); err != nil {
			q.log.Warn("record job outcomes", "jobs", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.lastFlush:
			for {
				select {
				case j := <-q.succeeded:
					batch = append(batch, j)
					continue
				default:
				}
				break
			}
			flush()
			return
		case j := <-q.succeeded:
			batch = append(batch, j)
		more:
			for len(batch) < 64 {
				select {
				case j := <-q.succeeded:
					batch = append(batch, j)
				default:
					break more
				}
			}
			flush()
		}
	}
}

// finishBatch records successful attempts in one statement, each fenced
// by lease owner and attempt number; it retries transaction conflicts.
func (q *Queue) finishBatch(ctx context.Context, batch []Job) error {
	done := make([]map[string]any, 0, len(batch))
	for _, j := range batch {
		done = append(done, map[string]any{"id": jobID(j.ID), "attempt": j.Attempts})
	}
	var err error
	for try := 0; try < 6; try++ {
		err = q.db.Exec(ctx, `FOR $d IN $done {
			UPDATE $d.id SET state = 'succeeded', lease_owner = '', lease_until = NONE, unique_key = NONE,
				finished_at = time::now(), updated_at = time::now()
			WHERE state = 'running' AND lease_owner = $me AND attempts = $d.attempt;
		}`, map[string]any{"done": done, "me": q.opt.Instance})
		if err == nil {
			return nil
		}
		time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond << try)
	}
	return fmt.Errorf("record %d successful jobs: %w", len(batch), err)
}

// errorText is what last_error keeps: the error's text, bounded.
func errorText(err error) string {
	s := err.Error()
	if len(s) > 4000 {
		s = s[:4000] + "…"
	}
	return s
}

// heartbeatLoop extends the leases of the jobs this instance runs, and
// cancels a job whose lease it could not extend in time (so it never
// runs at the same time as the instance that takes it over). It also
// buries jobs whose last attempt's lease expired.
func (q *Queue) heartbeatLoop(ctx context.Context) {
	defer q.loops.Done()
	t := time.NewTicker(q.opt.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		q.heartbeat(ctx)
		if err := q.buryExpired(ctx); err != nil && ctx.Err() == nil {
			q.log.Debug("bury expired jobs", "err", err)
		}
	}
}

func (q *Queue) heartbeat(ctx context.Context) {
	q.mu.Lock()
	keys := make([]string, 0, len(q.running))
	ids := make([]any, 0, len(q.running))
	for id := range q.running {
		keys = append(keys, id)
		ids = append(ids, jobID(id))
	}
	q.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	type held struct {
		ID       string `json:"id"`
		Attempts int    `json:"attempts"`
	}
	sent := time.Now()
	var rows []held
	var err error
	for try := 0; try < 3; try++ {
		rows, err = store.Query[[]held](ctx, q.db, `UPDATE $ids SET lease_until = time::now() + <duration> $lease
			WHERE state = 'running' AND lease_owner = $me RETURN record::id(id) AS id, attempts`,
			map[string]any{"ids": ids, "me": q.opt.Instance, "lease": surrealDuration(q.opt.Lease)})
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err == nil {
		got := make(map[string]int, len(rows))
		for _, r := range rows {
			got[r.ID] = r.Attempts
		}
		for _, id := range keys {
			ru, ok := q.running[id]
			if !ok {
				continue // finished meanwhile
			}
			if a, held := got[id]; held && a == ru.job.Attempts {
				ru.deadline = sent.Add(q.opt.Lease)
				continue
			}
			// Another instance holds the job now: stop this attempt.
			ru.lost = true
			ru.cancel()
			q.log.Warn("job lease was lost; cancelling the attempt", "job", id, "kind", ru.job.Kind)
		}
	}
}

// buryExpired marks dead the running jobs whose last attempt's lease
// expired (their instance died on the last attempt). The state check is
// in the same statement, so a job that completed meanwhile is untouched.
func (q *Queue) buryExpired(ctx context.Context) error {
	return q.db.Exec(ctx, `UPDATE job SET state = 'dead',
			last_error = 'lease expired on the last attempt: the worker stopped or crashed',
			lease_owner = '', lease_until = NONE, unique_key = NONE, finished_at = time::now(), updated_at = time::now()
		WHERE state = 'running' AND lease_until < time::now() AND attempts >= max_attempts`, nil)
}
