package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/eligibility"
)

// bindEligibilityAPI binds insurance eligibility (docs/insurance.md):
// checking and listing a patient's checks is patient data (staff and
// admins); the raw X12 of a check is for admins troubleshooting (it holds
// PHI; every read is audited).
func (s *Server) bindEligibilityAPI(r fiber.Router) {
	if s.deps.Eligibility == nil {
		return
	}
	r.Post("/patients/:id/eligibility", allow(staffAndAdmin), s.checkEligibility)
	r.Get("/patients/:id/eligibility", allow(staffAndAdmin), s.listEligibility)
	r.Get("/eligibility/:check_id/x12", allow(adminOnly), s.eligibilityX12)
}

// checkEligibility answers POST /patients/{id}/eligibility with the new
// check: 200 whatever the insurer said (active, inactive, not_found,
// error with the rejection), 422 when the patient has no payer or member
// id, 504 when the insurer did not answer in time (the check is stored
// and included), 503 when the insurance adapter is not available.
func (s *Server) checkEligibility(c *fiber.Ctx) error {
	check, err := s.deps.Eligibility.Check(c.UserContext(), c.Params("id"))
	switch {
	case errors.Is(err, eligibility.ErrTimeout):
		return eligibilityProblem(c, http.StatusGatewayTimeout,
			"The insurer did not answer in time. Nothing was changed; the check is kept with status error. Try again later.", &check)
	case errors.Is(err, eligibility.ErrAdapter):
		c.Set(fiber.HeaderRetryAfter, "5")
		return eligibilityProblem(c, http.StatusServiceUnavailable,
			"The insurance adapter is not available right now (stopped, restarting or disabled). Nothing was checked; try again in a moment.", nil)
	case err != nil:
		return err
	}
	return c.JSON(check)
}

// listEligibility answers GET /patients/{id}/eligibility: {"items"},
// newest first (limit: 1..100, default 20).
func (s *Server) listEligibility(c *fiber.Ctx) error {
	limit, _ := strconv.Atoi(c.Query("limit"))
	items, err := s.deps.Eligibility.List(c.UserContext(), c.Params("id"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// eligibilityX12 answers GET /eligibility/{check_id}/x12 with the raw
// 270 and 271 while they are kept (30 days).
func (s *Server) eligibilityX12(c *fiber.Ctx) error {
	x, err := s.deps.Eligibility.X12(c.UserContext(), c.Params("check_id"))
	if err != nil {
		return err
	}
	return c.JSON(x)
}

// eligibilityProblem writes a 5xx problem whose detail is meant for the
// user (problemOf would replace it with a generic text), with the stored
// check when there is one.
func eligibilityProblem(c *fiber.Ctx, status int, detail string, check *eligibility.Check) error {
	body := struct {
		Problem
		Check *eligibility.Check `json:"check,omitempty"`
	}{Problem: Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, RequestID: requestID(c)}, Check: check}
	c.Status(status)
	return c.JSON(body, "application/problem+json")
}
