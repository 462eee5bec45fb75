package api

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/patient"
)

// batchRequest is the body of POST /patients:batch: up to 500 patients,
// each as POST /patients takes it, and whether the caller creates them
// all despite duplicate warnings (a migration that knows they are new).
type batchRequest struct {
	Items            []createRequest `json:"items"`
	ConfirmDuplicate bool            `json:"confirm_duplicate"`
}

// batchResult is one item's outcome: its index in the request, the
// status POST /patients would have answered (201, 409, 422, ...), the new
// patient's id, or the problem (with "duplicates" for a warning).
type batchResult struct {
	Index  int               `json:"index"`
	Status int               `json:"status"`
	ID     string            `json:"id,omitempty"`
	Error  *batchItemProblem `json:"error,omitempty"`
}

// batchItemProblem is a refused item's problem.
type batchItemProblem struct {
	Problem
	Duplicates []patient.Candidate `json:"duplicates,omitempty"`
}

// batchResponse counts the outcomes beside the per-item results.
type batchResponse struct {
	Created int           `json:"created"`
	Failed  int           `json:"failed"`
	Results []batchResult `json:"results"`
}

// createPatientsBatch answers POST /patients:batch with 200 and one
// result per item, in order: each item is created, or refused on its
// own, exactly as POST /patients would (every item is audited). The
// request as a whole fails only when it is malformed, empty or larger
// than 500 items, or the caller may not create patients.
func (s *Server) createPatientsBatch(c *fiber.Ctx) error {
	var req batchRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	items := make([]patient.BatchItem, len(req.Items))
	for i, it := range req.Items {
		items[i] = patient.BatchItem{Input: it.Input, ConfirmDuplicate: it.ConfirmDuplicate}
	}
	results, err := s.deps.Patients.CreateBatch(c.UserContext(), items, req.ConfirmDuplicate)
	if err != nil {
		return err
	}
	resp := batchResponse{Results: make([]batchResult, len(results))}
	for i, r := range results {
		out := batchResult{Index: i, Status: fiber.StatusCreated}
		if r.Err != nil {
			pr := batchItemProblem{Problem: problemOf(c, r.Err)}
			var dup *patient.DuplicateError
			if errors.As(r.Err, &dup) {
				pr.Duplicates = dup.Candidates
			}
			out.Status, out.Error = pr.Status, &pr
			resp.Failed++
		} else {
			out.ID = r.Patient.ID
			resp.Created++
		}
		resp.Results[i] = out
	}
	return c.JSON(resp)
}
