package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// bindReviewAPI binds the identity review queue (docs/patients.md):
//
//	GET  /review                                  open items with their candidates
//	POST /review/{id}/resolve {action, patient_id}  same (alias merge) | new | reject
//
// Items hold a document's demographics: admins and staff only; the
// service checks the role again and audits every call.
func (s *Server) bindReviewAPI(r fiber.Router) {
	if s.deps.Review == nil {
		return
	}
	r.Get("/review", allow(staffAndAdmin), s.listReview)
	r.Post("/review/:id/resolve", allow(staffAndAdmin), s.resolveReview)
}

// resolveRequest is the body of POST /review/{id}/resolve.
type resolveRequest struct {
	Action    string `json:"action"`
	PatientID string `json:"patient_id"`
}

// listReview answers GET /review?limit=: {"items": [...]}.
func (s *Server) listReview(c *fiber.Ctx) error {
	limit, _ := strconv.Atoi(c.Query("limit"))
	items, err := s.deps.Review.List(c.UserContext(), limit)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": items})
}

// resolveReview answers POST /review/{id}/resolve with the resolved item.
func (s *Server) resolveReview(c *fiber.Ctx) error {
	var req resolveRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	it, err := s.deps.Review.Resolve(c.UserContext(), c.Params("id"), req.Action, req.PatientID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(it)
}
