package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/store"
)

// Resume finishes interrupted jobs: running jobs whose lease has expired
// (their instance died or stopped) are claimed one by one — the claim is
// a conditional update, so two instances never both take a job — and
// their pending files are processed as the user who started the job. It
// returns how many jobs it resumed.
func (s *Service) Resume(ctx context.Context) (int, error) {
	type row struct {
		Key         string `json:"key"`
		CreatedBy   string `json:"created_by"`
		CreatedRole string `json:"created_role"`
	}
	stale, err := store.Query[[]row](ctx, s.d.DB, `SELECT record::id(id) AS key, created_by, created_role, created_at FROM import_job
		WHERE status = 'running' AND lease_until < time::now() ORDER BY created_at`, nil)
	if err != nil {
		return 0, fmt.Errorf("resume imports: %w", err)
	}
	n := 0
	for _, r := range stale {
		claimed, err := store.Query[[]string](ctx, s.d.DB, `UPDATE $job SET lease_owner = $me, lease_until = time::now() + <duration> $ttl
			WHERE status = 'running' AND lease_until < time::now() RETURN VALUE record::id(id)`,
			map[string]any{"job": jobID(r.Key), "me": s.opt.Instance, "ttl": s.opt.LeaseTTL.String()})
		if err != nil {
			if errors.Is(err, store.ErrTxConflict) || errors.Is(err, store.ErrConflict) {
				continue // another instance claimed it in the same instant
			}
			return n, fmt.Errorf("resume imports: claim %s: %w", r.Key, err)
		}
		if len(claimed) == 0 {
			continue // another instance was quicker
		}
		s.log.Info("resuming interrupted import", "job", r.Key)
		jctx := actor.With(ctx, actor.Actor{UserID: r.CreatedBy, Role: actor.Role(r.CreatedRole), RequestID: "import-resume-" + r.Key})
		if err := s.process(jctx, r.Key, nil); err != nil {
			return n, fmt.Errorf("resume imports: %w", err)
		}
		n++
	}
	return n, nil
}
