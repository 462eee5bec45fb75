package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// ProbeKind is the queue's end-to-end self-test: a probe job records
// its attempt (instance, start, end) and applies one idempotent side
// effect (a job_probe row keyed by the job id). `pfinni jobs probe`
// enqueues them; the multi-process tests count the effects.
const ProbeKind = "jobs.probe"

// RegisterProbe registers the probe handler on q.
func RegisterProbe(q *Queue) error {
	return q.Register(ProbeKind, HandlerFunc(func(ctx context.Context, j Job) error {
		return probe(ctx, q.db, q.opt.Instance, j)
	}))
}

func probe(ctx context.Context, db *store.DB, instance string, j Job) error {
	run := store.RecordID("job_probe_run", fmt.Sprintf("%s_%d", j.ID, j.Attempts))
	if err := db.Exec(ctx, `CREATE $run SET job = $job, attempt = $attempt, instance = $me, started_at = time::now()`,
		map[string]any{"run": run, "job": j.ID, "attempt": j.Attempts, "me": instance}); err != nil {
		return fmt.Errorf("probe %s: record attempt: %w", j.ID, err)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(5 * time.Millisecond):
	}
	if err := db.Exec(ctx, `INSERT IGNORE INTO job_probe {id: $id, done_at: time::now(), instance: $me}`,
		map[string]any{"id": store.RecordID("job_probe", j.ID), "me": instance}); err != nil {
		return fmt.Errorf("probe %s: apply effect: %w", j.ID, err)
	}
	if err := db.Exec(ctx, `UPDATE $run SET ended_at = time::now()`, map[string]any{"run": run}); err != nil {
		return fmt.Errorf("probe %s: record end: %w", j.ID, err)
	}
	return nil
}

// ProbeTickKind is the job a probe cron schedule enqueues at each tick;
// it runs the probe (one recorded attempt, one idempotent effect).
const ProbeTickKind = "jobs.probe_tick"

// ProbeCronEnv names the environment variable that, when set to a cron
// spec (e.g. "@every 1s"), makes a serving process take part in the
// probe schedule. It is a test hook for the multi-process cron proof,
// deliberately not a configuration key (nor PFINNI_*, which the
// configuration checks against its keys).
const ProbeCronEnv = "PFINNITEST_JOBS_PROBE_CRON"

// RegisterProbeCron registers the probe tick handler and schedules it at
// spec (schedule "jobs-probe-tick"): every instance that does so shares
// the ticks, and exactly one enqueues each.
func RegisterProbeCron(q *Queue, spec string) error {
	err := q.Register(ProbeTickKind, HandlerFunc(func(ctx context.Context, j Job) error {
		return probe(ctx, q.db, q.opt.Instance, j)
	}))
	if err != nil {
		return err
	}
	return q.Schedule("jobs-probe-tick", spec, ProbeTickKind, nil)
}

// EnqueueProbes stores n probe jobs in batches and returns how many it
// stored.
func EnqueueProbes(ctx context.Context, db *store.DB, n int) (int, error) {
	done := 0
	for done < n {
		m := min(500, n-done)
		if err := db.Exec(ctx, `FOR $i IN 0..$m { CREATE job CONTENT {kind: 'jobs.probe', args: '{}', state: 'queued',
			max_attempts: 25, run_at: time::now(), created_at: time::now(), updated_at: time::now()} }`,
			map[string]any{"m": m}); err != nil {
			return done, fmt.Errorf("enqueue probes: %w", err)
		}
		done += m
	}
	return done, nil
}
