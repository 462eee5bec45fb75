package dashboard

import (
	"context"
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/eligibility"
	"github.com/pfinni/pfinni/core/fault"
)

// Eligibility checks a patient's insurance coverage (core/eligibility).
type Eligibility interface {
	Check(ctx context.Context, id string) (eligibility.Check, error)
	Latest(ctx context.Context, id string) (*eligibility.Check, error)
}

var _ Eligibility = (*eligibility.Service)(nil)

// eligibilityView is the patient page's eligibility block: the latest
// check and, after a check that stored nothing, why.
type eligibilityView struct {
	On      bool               // the service is wired: show the button
	Latest  *eligibility.Check // newest check, nil when none
	Problem string             // plain words, from a fixed list
}

// eligibilityProblems are the fixed messages a redirect may name
// (?eligibility=), so no free text travels in URLs.
var eligibilityProblems = map[string]string{
	"missing":     "Add the patient's insurance payer and member id (Edit) before checking eligibility.",
	"unavailable": "The insurance adapter is not available right now (stopped, restarting or disabled on the Plugins page). Nothing was checked; try again in a moment.",
	"timeout":     "The insurer did not answer in time. Nothing was changed; try again later.",
	"failed":      "The check could not be completed. Try again; the request id in the log helps the admin.",
}

func (db *Dashboard) bindEligibility(r fiber.Router) {
	r.Post("/patients/:id/eligibility", db.session, allow(staffPages), db.checkEligibility)
}

// checkEligibility runs a check from the patient page's button and goes
// back to the page, which shows the newest check (or why there is none).
func (db *Dashboard) checkEligibility(c *fiber.Ctx) error {
	if db.d.Eligibility == nil {
		return unavailable("eligibility")
	}
	id := c.Params("id")
	_, err := db.d.Eligibility.Check(c.UserContext(), id)
	back := db.base + "/patients/" + url.PathEscape(id)
	var fields fault.Fields
	switch {
	case err == nil:
		return c.Redirect(back+"#eligibility", fiber.StatusSeeOther)
	case errors.Is(err, eligibility.ErrTimeout):
		return c.Redirect(back+"?eligibility=timeout#eligibility", fiber.StatusSeeOther)
	case errors.As(err, &fields):
		return c.Redirect(back+"?eligibility=missing#eligibility", fiber.StatusSeeOther)
	case errors.Is(err, eligibility.ErrAdapter):
		return c.Redirect(back+"?eligibility=unavailable#eligibility", fiber.StatusSeeOther)
	case errors.Is(err, fault.ErrForbidden), errors.Is(err, fault.ErrNotFound), errors.Is(err, fault.ErrUnauthorized):
		return err
	}
	db.d.Logger.Warn("eligibility check from the patient page failed", "patient", id, "err", err)
	return c.Redirect(back+"?eligibility=failed#eligibility", fiber.StatusSeeOther)
}

// eligibilityOf is patient id's eligibility block.
func (db *Dashboard) eligibilityOf(c *fiber.Ctx, id string) eligibilityView {
	if db.d.Eligibility == nil || !staffPages.Allows(actor.From(c.UserContext()).Role) {
		return eligibilityView{} // providers do not run insurance checks
	}
	v := eligibilityView{On: true, Problem: eligibilityProblems[c.Query("eligibility")]}
	if latest, err := db.d.Eligibility.Latest(c.UserContext(), id); err == nil {
		v.Latest = latest
	}
	return v
}
