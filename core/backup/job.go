package backup

import (
	"context"
	"fmt"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/jobs"
)

// JobKind is the scheduled backup job.
const JobKind = "backup.scheduled"

// Scheduler is the part of the job queue scheduled backups use
// (*jobs.Queue).
type Scheduler interface {
	Register(kind string, h jobs.Handler) error
	Schedule(name, spec, kind string, args any) error
}

var _ Scheduler = (*jobs.Queue)(nil)

// RegisterJob runs s.Create on q at every tick of spec (cron syntax, or
// @daily, @every 6h), once across all instances. An empty spec turns
// scheduled backups off.
func RegisterJob(q Scheduler, s *Service, spec string) error {
	if spec == "" {
		return nil
	}
	err := q.Register(JobKind, jobs.HandlerFunc(func(ctx context.Context, _ jobs.Job) error {
		_, err := s.Create(actor.System(ctx))
		return err
	}))
	if err == nil {
		err = q.Schedule(JobKind, spec, JobKind, nil)
	}
	if err != nil {
		return fmt.Errorf("schedule backups: %w", err)
	}
	return nil
}
