package app

import (
	"context"
	"fmt"

	"github.com/pfinni/pfinni/core/jobs"
)

// wireJobs builds the durable job queue on the store. Every process has
// one: CLI commands enqueue, list and retry jobs; only a serving process
// runs workers (startJobs). Subsystems register their handlers and
// schedules on a.Jobs before startJobs.
func (a *App) wireJobs() error {
	a.Jobs = jobs.New(a.DB, jobs.Options{Logger: a.Log})
	a.JobsAdmin = jobs.NewAdmin(a.DB)
	if err := jobs.RegisterRetention(a.Jobs, jobs.Retention{}); err != nil {
		return fmt.Errorf("wire jobs: %w", err)
	}
	return nil
}

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
