package api

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/patient"
)

// bindMergeAPI binds merging two records of one person and its undo
// (staff and admins; the service audits both records' trails):
//
//	POST /patients/{id}/merge       {"from_id"}   merge from_id into id
//	GET  /patients/{id}/merges                    merges into or out of id
//	POST /patients/{id}/merge/undo  {"merge_id"}  undo (newest when omitted), within 24 h
//
// GET /patients/{merged-away id} answers 410 Gone with "merged_into".
func (s *Server) bindMergeAPI(r fiber.Router) {
	if s.deps.Patients == nil {
		return
	}
	r.Post("/patients/:id/merge", allow(staffAndAdmin), s.mergePatients)
	r.Get("/patients/:id/merges", allow(staffAndAdmin), s.listMerges)
	r.Post("/patients/:id/merge/undo", allow(staffAndAdmin), s.undoMerge)
}

// mergeRequest is the body of POST /patients/{id}/merge.
type mergeRequest struct {
	FromID string `json:"from_id"`
}

// undoMergeRequest is the body of POST /patients/{id}/merge/undo.
type undoMergeRequest struct {
	MergeID string `json:"merge_id"`
}

// mergePatients answers POST /patients/{id}/merge with the merge and the
// kept patient.
func (s *Server) mergePatients(c *fiber.Ctx) error {
	var req mergeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.deps.Patients.Merge(c.UserContext(), c.Params("id"), req.FromID)
	if err != nil {
		return s.mergedOr(c, err)
	}
	withETag(c, res.Keep)
	return c.JSON(res)
}

// listMerges answers GET /patients/{id}/merges: {"items": [...]}.
func (s *Server) listMerges(c *fiber.Ctx) error {
	ms, err := s.deps.Patients.Merges(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": ms})
}

// undoMerge answers POST /patients/{id}/merge/undo; the body may be
// empty (undo the newest merge into id). After 24 h: 409.
func (s *Server) undoMerge(c *fiber.Ctx) error {
	var req undoMergeRequest
	if len(rawBody(c)) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	res, err := s.deps.Patients.UndoMerge(c.UserContext(), c.Params("id"), req.MergeID)
	if err != nil {
		return s.mergedOr(c, err)
	}
	withETag(c, res.Keep)
	return c.JSON(res)
}

// goneProblem is the 410 answer for a merged-away record.
type goneProblem struct {
	Problem
	MergedInto string `json:"merged_into"`
}

// mergedOr answers 410 Gone with merged_into (and a Link to the kept
// record) when err says the record was merged; otherwise it returns err.
func (s *Server) mergedOr(c *fiber.Ctx, err error) error {
	into, ok := patient.IsMerged(err)
	if !ok {
		return err
	}
	p := problemOf(c, err)
	p.Status, p.Title = http.StatusGone, http.StatusText(http.StatusGone)
	c.Set(fiber.HeaderLink, "<"+s.cfg.BasePath+"/api/v1/patients/"+into+`>; rel="alternate"`)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Status(http.StatusGone).JSON(goneProblem{Problem: p, MergedInto: into}, "application/problem+json")
}
