package jobs

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/pfinni/pfinni/core/store"
)

// schedule is one cron schedule this instance takes part in.
type schedule struct {
	name  string
	spec  string
	kind  string
	args  any
	sched cron.Schedule
	next  time.Time // the next tick this instance will try to enqueue
}

// tickSQL enqueues one tick of a schedule, once across all instances:
// advancing job_schedule.last_tick is the compare-and-swap (an instance
// that is late, or a second one racing it in the same transaction
// window, changes nothing), and the job is created in the same
// transaction. The job's record id is derived from the schedule and the
// tick (cronJobKey), so a tick's job can be created once only, whatever
// happens to the compare-and-swap: two processes on one database were
// seen to enqueue one tick twice, the second after the first had run and
// released its unique key (cmd/pfinni TestTwoServeProcessesOnDBServe).
const tickSQL = `BEGIN TRANSACTION;
	INSERT IGNORE INTO job_schedule {id: $sid, spec: $spec, kind: $kind, updated_at: time::now()};
	LET $won = (UPDATE $sid SET last_tick = <datetime> $tick, spec = $spec, kind = $kind, updated_at = time::now()
		WHERE last_tick = NONE OR last_tick < <datetime> $tick RETURN VALUE record::id(id));
	IF array::len($won) > 0 {
		CREATE $jid CONTENT {kind: $kind, args: $args, state: 'queued', priority: 0, attempts: 0,
			max_attempts: $max, run_at: time::now(), unique_key: $key, created_at: time::now(), updated_at: time::now()};
	};
	RETURN array::len($won);
	COMMIT TRANSACTION;`

// CronArgs is added to a scheduled job's arguments under "cron": which
// schedule and tick enqueued it.
type CronArgs struct {
	Schedule string    `json:"schedule"`
	Tick     time.Time `json:"tick"`
}

func (q *Queue) cronLoop(ctx context.Context) {
	defer q.loops.Done()
	now := q.opt.Now().In(q.opt.Location)
	for _, s := range q.schedules {
		s.next = s.sched.Next(now)
	}
	for {
		next := q.schedules[0].next
		for _, s := range q.schedules[1:] {
			if s.next.Before(next) {
				next = s.next
			}
		}
		wait := next.Sub(q.opt.Now())
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-q.stop:
			t.Stop()
			return
		case <-t.C:
		}
		now := q.opt.Now().In(q.opt.Location)
		for _, s := range q.schedules {
			if s.next.After(now) {
				continue
			}
			tick := s.next
			// Ticks missed while this instance was busy are skipped.
			s.next = s.sched.Next(now)
			if _, err := q.enqueueTick(ctx, s, tick); err != nil && ctx.Err() == nil {
				q.log.Debug("enqueue cron tick", "schedule", s.name, "err", err)
			}
		}
	}
}

// enqueueTick enqueues tick of s unless an instance already did; it
// reports whether this call did.
func (q *Queue) enqueueTick(ctx context.Context, s *schedule, tick time.Time) (bool, error) {
	args, err := cronArgs(s, tick)
	if err != nil {
		return false, err
	}
	tick = tick.UTC()
	res, err := store.QueryAll[any](ctx, q.db, tickSQL, map[string]any{
		"sid": store.RecordID("job_schedule", s.name), "jid": jobID(cronJobKey(s.name, tick)), "spec": s.spec, "kind": s.kind, "args": args,
		"max": DefaultMaxAttempts, "tick": tick.Format(time.RFC3339Nano),
		"key": fmt.Sprintf("cron:%s:%d", s.name, tick.UnixMilli())})
	if err != nil {
		// Most often another instance enqueued the tick in the same
		// instant (a transaction conflict): nothing to do.
		return false, fmt.Errorf("enqueue tick of schedule %s: %w", s.name, err)
	}
	// The results are BEGIN, INSERT, LET, IF, RETURN, COMMIT: RETURN
	// says whether this transaction advanced the tick.
	won := len(res) >= 2 && fmt.Sprint(res[len(res)-2]) == "1"
	if won {
		q.wakeLocal()
	}
	return won, nil
}

// cronJobKey is the record id of the job of one tick of a schedule:
// "cron_", a digest of the name, and the tick in Unix milliseconds.
func cronJobKey(name string, tick time.Time) string {
	sum := sha256.Sum256([]byte(name))
	return fmt.Sprintf("cron_%x_%d", sum[:6], tick.UnixMilli())
}

// cronArgs merges the schedule's arguments (a JSON object) with the
// tick's CronArgs under "cron".
func cronArgs(s *schedule, tick time.Time) (string, error) {
	m := map[string]any{}
	if s.args != nil {
		raw, err := marshalObject(s.args)
		if err != nil {
			return "", fmt.Errorf("schedule %s: %w", s.name, err)
		}
		m = raw
	}
	m["cron"] = CronArgs{Schedule: s.name, Tick: tick.UTC()}
	b, err := jsonMarshal(m)
	if err != nil {
		return "", fmt.Errorf("schedule %s: encode arguments: %w", s.name, err)
	}
	return string(b), nil
}
