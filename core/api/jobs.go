package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/jobs"
)

// JobsAdmin is the job queue's admin side the API serves (jobs.Admin).
type JobsAdmin interface {
	List(ctx context.Context, f jobs.Filter) ([]jobs.Job, int, error)
	Retry(ctx context.Context, id string) (jobs.Job, error)
}

var _ JobsAdmin = (*jobs.Admin)(nil)

// bindJobsAPI binds the background job queue's admin surface: the list
// of jobs by state and kind, and a retry for dead jobs. Admin only; job
// arguments are not shown (they are the handlers' business), errors are.
func (s *Server) bindJobsAPI(r fiber.Router) {
	if s.deps.Jobs == nil {
		return
	}
	r.Get("/jobs", allow(adminOnly), s.listJobs)
	r.Post("/jobs/:id/retry", allow(adminOnly), s.retryJob)
}

// jobView is a job as the API shows it.
type jobView struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	MaxAttempts int       `json:"max_attempts"`
	RunAt       time.Time `json:"run_at"`
	LastError   string    `json:"last_error"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func viewJob(j jobs.Job) jobView {
	return jobView{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempts: j.Attempts, MaxAttempts: j.MaxAttempts,
		RunAt: j.RunAt, LastError: j.LastError, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
}

// listJobs answers GET /jobs?state=&kind=&limit=&offset= with
// {items, total}, newest first.
func (s *Server) listJobs(c *fiber.Ctx) error {
	f := jobs.Filter{State: jobs.State(c.Query("state")), Kind: c.Query("kind"),
		Limit: queryInt(c, "limit"), Offset: queryInt(c, "offset")}
	items, total, err := s.deps.Jobs.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := make([]jobView, 0, len(items))
	for _, j := range items {
		out = append(out, viewJob(j))
	}
	return c.JSON(fiber.Map{"items": out, "total": total})
}

// retryJob answers POST /jobs/{id}/retry: a dead job is queued again
// with a fresh set of attempts (409 for a job that is not dead). The
// queue's admin side audits the retry.
func (s *Server) retryJob(c *fiber.Ctx) error {
	j, err := s.deps.Jobs.Retry(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(viewJob(j))
}
