package dashboard

import (
	"context"
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
)

// JobsAdmin is the job queue's admin side as the Jobs page uses it;
// *jobs.Admin implements it (and audits retries).
type JobsAdmin interface {
	List(ctx context.Context, f jobs.Filter) ([]jobs.Job, int, error)
	Retry(ctx context.Context, id string) (jobs.Job, error)
}

var _ JobsAdmin = (*jobs.Admin)(nil)

// bindJobs binds the admin's Jobs page: background jobs by state and
// kind, and a retry button on dead ones. Admin only.
func (db *Dashboard) bindJobs(r fiber.Router) {
	admin := allow(adminPages)
	r.Get("/admin/jobs", db.session, admin, db.jobsPage)
	r.Post("/admin/jobs/:id/retry", db.session, admin, db.jobRetry)
}

// jobsView is the Jobs page.
type jobsView struct {
	Items  []jobs.Job
	Total  int
	State  string
	Kind   string
	States []jobs.State
	Error  string
}

func (db *Dashboard) renderJobs(c *fiber.Ctx, status int, jv jobsView) error {
	if db.d.Jobs == nil {
		return unavailable("jobs")
	}
	jv.States = jobs.States
	items, total, err := db.d.Jobs.List(c.UserContext(), jobs.Filter{State: jobs.State(jv.State), Kind: jv.Kind, Limit: 100})
	if err != nil {
		if !errors.Is(err, fault.ErrInvalid) {
			return err
		}
		jv.Error = "Choose a state from the list and a kind like jobs.retention."
		status = fiber.StatusUnprocessableEntity
	}
	jv.Items, jv.Total = items, total
	return db.render(c, status, "jobs", db.view(c, "Jobs", "jobs", jv))
}

func (db *Dashboard) jobsPage(c *fiber.Ctx) error {
	return db.renderJobs(c, fiber.StatusOK, jobsView{State: c.Query("state"), Kind: c.Query("kind")})
}

// jobRetry queues a dead job again; a job that is not dead (or gone)
// shows the reason on the page.
func (db *Dashboard) jobRetry(c *fiber.Ctx) error {
	if db.d.Jobs == nil {
		return unavailable("jobs")
	}
	if _, err := db.d.Jobs.Retry(c.UserContext(), c.Params("id")); err != nil {
		if !errors.Is(err, fault.ErrConflict) && !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		return db.renderJobs(c, fiber.StatusConflict, jobsView{State: string(jobs.Dead), Error: messageOf(err)})
	}
	return c.Redirect(db.base+"/admin/jobs?"+url.Values{"state": {string(jobs.Dead)}, "notice": {"job"}}.Encode(), fiber.StatusSeeOther)
}
