package app

import (
	"context"
	"fmt"
	"os"

	"github.com/pfinni/pfinni/core/cache"
	"github.com/pfinni/pfinni/core/jobs"
)

// wireJobs builds the durable job queue and the shared cache on the
// store. Every process has them: CLI commands enqueue, list and retry
// jobs; only a serving process runs workers (startJobs). Subsystems
// register their handlers and schedules on a.Jobs before startJobs. The
// queue's own housekeeping runs on it: finished jobs past retention and
// expired cache entries are deleted hourly, once across all instances.
func (a *App) wireJobs() error {
	a.Jobs = jobs.New(a.DB, jobs.Options{Logger: a.Log, Workers: a.Config.JobsWorkers})
	a.JobsAdmin = jobs.NewAdmin(a.DB, a.Audit)
	a.Cache = cache.New(a.DB, cache.Options{Logger: a.Log})
	if err := jobs.RegisterRetention(a.Jobs, jobs.Retention{}); err != nil {
		return fmt.Errorf("wire jobs: %w", err)
	}
	if err := jobs.RegisterProbe(a.Jobs); err != nil {
		return fmt.Errorf("wire jobs: %w", err)
	}
	// A test hook, not configuration: the multi-process proof runs a
	// cron schedule every second on every instance (docs/jobs.md).
	if spec := os.Getenv(jobs.ProbeCronEnv); spec != "" {
		if err := jobs.RegisterProbeCron(a.Jobs, spec); err != nil {
			return fmt.Errorf("wire jobs: %w", err)
		}
	}
	err := a.Jobs.Register(cachePurgeKind, jobs.HandlerFunc(func(ctx context.Context, _ jobs.Job) error {
		_, err := a.Cache.Purge(ctx)
		return err
	}))
	if err == nil {
		err = a.Jobs.Schedule(cachePurgeKind, "@hourly", cachePurgeKind, nil)
	}
	if err != nil {
		return fmt.Errorf("wire jobs: %w", err)
	}
	return nil
}

// cachePurgeKind is the hourly job that deletes expired cache entries.
const cachePurgeKind = "cache.purge"

// startJobs runs the queue's workers and cron schedules until Close,
// which stops them gracefully (running jobs finish or are given back)
// before the store closes.
func (a *App) startJobs(ctx context.Context) error {
	if err := a.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}
	a.closers = append(a.closers, a.Jobs.Stop)
	return nil
}
