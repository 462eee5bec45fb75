package dashboard

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/review"
)

// Reviews is the identity review queue; *review.Service implements it.
type Reviews interface {
	List(ctx context.Context, limit int) ([]review.Entry, error)
	Resolve(ctx context.Context, id, action, patientID string) (review.Item, error)
}

var _ Reviews = (*review.Service)(nil)

// bindReview binds the Review page: each open import record beside its
// candidates, with the three decisions (same person, new patient,
// reject) as forms. The service audits every read and decision.
func (db *Dashboard) bindReview(r fiber.Router) {
	if db.d.Review == nil {
		return
	}
	staff := allow(staffPages)
	r.Get("/review", db.session, staff, db.reviewPage)
	r.Post("/review/:id/resolve", db.session, staff, db.reviewResolve)
}

// reviewView is the Review page's data.
type reviewView struct {
	Items []review.Entry
	Error string
}

func (db *Dashboard) reviewPage(c *fiber.Ctx) error {
	return db.renderReview(c, fiber.StatusOK, "")
}

func (db *Dashboard) renderReview(c *fiber.Ctx, status int, problem string) error {
	items, err := db.d.Review.List(c.UserContext(), 0)
	if err != nil {
		return err
	}
	return db.render(c, status, "review", db.view(c, "Review", "review", reviewView{Items: items, Error: problem}))
}

// reviewResolve carries out a decision and returns to the queue; a
// refused decision shows the reason above the queue.
func (db *Dashboard) reviewResolve(c *fiber.Ctx) error {
	_, err := db.d.Review.Resolve(c.UserContext(), c.Params("id"), c.FormValue("action"), c.FormValue("patient_id"))
	if err == nil {
		return c.Redirect(db.base+"/review?notice=reviewed", fiber.StatusSeeOther)
	}
	if errors.Is(err, fault.ErrInvalid) || errors.Is(err, fault.ErrConflict) || errors.Is(err, fault.ErrNotFound) {
		return db.renderReview(c, fiber.StatusUnprocessableEntity, messageOf(err))
	}
	return err
}
