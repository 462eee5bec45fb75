package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
)

// Imports run on the durable job queue (core/jobs). Every import job has
// one queue job of kind KindProcess at a time (unique key
// "import:<job id>"), whose handler works through the import's pending
// files. The queue's lease, heartbeat and fencing are the import's: if
// the instance working on an import dies, its lease expires and any
// serving instance's workers take the import over (within the lease plus
// one heartbeat, 40 s by default), and the files already done are not
// done again (each file is committed once, in file order). An instance
// that stops gives its imports back at once. The queue job's arguments
// name the import job, never a patient.
//
// Run (the CLI) and Retry run their queue job on the caller's goroutine
// (jobs.Queue.Do); Submit and uploads store the queue job and start it
// at once on the instance that accepted them (jobs.Queue.Take), where a
// worker of any instance may also pick it up. An import whose remaining
// files wait for an importer plugin ends its queue job (succeeded); it
// gets a new one when the importers change (waiting.go).

// KindProcess is the queue job kind that processes an import job.
const KindProcess = "import.process"

// processArgs are a KindProcess job's arguments: record ids only.
type processArgs struct {
	Import    string `json:"import"`
	RequestID string `json:"request_id,omitempty"`
}

// queueKey is the unique key of an import's queue job.
func queueKey(importKey string) string { return "import:" + importKey }

// enqueue stores the queue job of an import (or returns the live one).
func (s *Service) enqueue(ctx context.Context, key string) (jobs.Job, error) {
	j, err := s.q.Enqueue(ctx, KindProcess, processArgs{Import: key, RequestID: actor.From(ctx).RequestID},
		jobs.EnqueueOptions{UniqueKey: queueKey(key)})
	if err != nil {
		return jobs.Job{}, fmt.Errorf("queue import job %s: %w", key, err)
	}
	return j, nil
}

// startNow stores the queue job of a new import and starts it on this
// instance in the background (Submit and uploads). If that fails, the
// import is still kept: the queue or the next Resume runs it.
func (s *Service) startNow(ctx context.Context, key string) {
	qj, err := s.enqueue(ctx, key)
	if err != nil {
		s.log.Warn("queue import job; it is resumed later", "job", key, "err", err)
		return
	}
	s.goBackground(func(bg context.Context) {
		if _, err := s.q.Take(bg, qj.ID, nil); err != nil && bg.Err() == nil {
			s.log.Error("import job stopped", "job", key, "err", err)
		}
	})
}

// runNow runs a new import on the caller's goroutine under a queue job
// (Run and Retry), reporting progress; if ctx ends, the import is given
// back to the queue with its pending files.
func (s *Service) runNow(ctx context.Context, key string, progress ProgressFunc) error {
	_, err := s.q.Do(ctx, KindProcess, processArgs{Import: key, RequestID: actor.From(ctx).RequestID},
		jobs.EnqueueOptions{UniqueKey: queueKey(key)},
		jobs.HandlerFunc(func(ctx context.Context, _ jobs.Job) error { return s.process(ctx, key, progress) }))
	return err
}

// work is the KindProcess handler: it processes the import's pending
// files as the user who started it. It is idempotent: files already done
// are skipped, and a finished import is left as it is.
func (s *Service) work(ctx context.Context, j jobs.Job) error {
	_, err := s.workOn(ctx, j)
	return err
}

// workOn is work, also saying whether the import still had work (it was
// running when the queue job started).
func (s *Service) workOn(ctx context.Context, j jobs.Job) (running bool, _ error) {
	var a processArgs
	if err := j.Bind(&a); err != nil || a.Import == "" {
		return false, jobs.Permanent(fmt.Errorf("import queue job %s: no import job in its arguments", j.ID))
	}
	r, err := s.loadJob(ctx, a.Import)
	if errors.Is(err, ErrNotFound) {
		// The import is gone (deleted, or a restore from before it):
		// retrying cannot bring it back, so the queue job is dead at once.
		return false, jobs.Permanent(fmt.Errorf("import queue job %s: %w", j.ID, err))
	}
	if err != nil {
		return false, err
	}
	if r.Status != StatusRunning {
		return false, nil
	}
	rid := a.RequestID
	if rid == "" {
		rid = "import-" + a.Import
	}
	return true, s.process(actor.With(ctx, actor.Actor{UserID: r.CreatedBy, Role: actor.Role(r.CreatedRole), RequestID: rid}), a.Import, nil)
}

// Resume finishes interrupted imports now, on the calling goroutine:
// every running import whose queue job is due (given back, waiting for
// its retry, or held by an instance whose lease expired), or that has
// none (its instance died before storing it, or its files were waiting
// for an importer that is now in service), is claimed through the queue
// — a compare-and-swap, so of two instances only one takes it — and
// processed. Imports whose queue job another instance holds, and imports
// whose files all still wait for an importer, are left alone. It returns
// how many imports it worked on (not one finished meanwhile by another
// instance).
func (s *Service) Resume(ctx context.Context) (int, error) {
	type row struct {
		Key string `json:"key"`
	}
	rows, err := store.Query[[]row](ctx, s.d.DB, `SELECT record::id(id) AS key, created_at FROM import_job
		WHERE status = 'running' ORDER BY created_at`, nil)
	if err != nil {
		return 0, fmt.Errorf("resume imports: %w", err)
	}
	n := 0
	for _, r := range rows {
		key := r.Key
		waiting, err := s.onlyWaiting(ctx, key)
		if err != nil {
			return n, fmt.Errorf("resume imports: %w", err)
		}
		if waiting {
			continue
		}
		qj, err := s.enqueue(ctx, key)
		if err != nil {
			return n, fmt.Errorf("resume imports: %w", err)
		}
		worked := false
		ran, err := s.q.Take(ctx, qj.ID, jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
			var werr error
			worked, werr = s.workOn(ctx, j)
			return werr
		}))
		if ran && worked {
			s.log.Info("resumed interrupted import", "job", key)
			n++
		}
		if err != nil {
			return n, fmt.Errorf("resume imports: %w", err)
		}
	}
	return n, nil
}
