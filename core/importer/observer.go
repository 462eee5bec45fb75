package importer

import "context"

// FinishObserver learns that an import job finished (core/app passes
// core/webhooks' publisher). It is told once per job, by the instance
// that recorded the end, with the job id and its counts only; it must
// not fail the import and handles its own errors.
type FinishObserver interface {
	ImportFinished(ctx context.Context, jobID string, c Counts)
}

// finished tells Options.OnFinished, if set, that job key finished.
func (s *Service) finished(ctx context.Context, key string, c Counts) {
	if s.opt.OnFinished != nil {
		s.opt.OnFinished.ImportFinished(ctx, key, c)
	}
}
