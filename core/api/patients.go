package api

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
)

// bindPatientsAPI binds the patient routes. Patient records are for
// staff, admins and providers (auditors read the audit trail, not the
// records); the service scopes a provider to its own panel. Delete is
// admin-only. The service checks the role again and audits every call.
func (s *Server) bindPatientsAPI(r fiber.Router) {
	if s.deps.Patients == nil {
		return
	}
	r.Get("/patients", allow(panelUsers), s.listPatients)
	r.Post("/patients", allow(panelUsers), s.createPatient)
	r.Post(`/patients\:batch`, allow(panelUsers), s.createPatientsBatch) // patients_batch.go
	r.Get("/patients/stats", allow(panelUsers), s.patientStats)
	r.Get("/patients/workflow", allow(panelUsers), s.patientWorkflow)
	r.Get("/patients/export.csv", allow(panelUsers), s.exportPatients)
	r.Get("/patients/:id", allow(panelUsers), s.getPatient)
	r.Patch("/patients/:id", allow(panelUsers), s.updatePatient)
	r.Delete("/patients/:id", allow(adminOnly), s.deletePatient)
	r.Post("/patients/:id/status", allow(panelUsers), s.changePatientStatus)
	r.Get("/patients/:id/history", allow(panelUsers), s.patientHistory)
}

// listPatients answers GET /patients: {"items", "total", "next_cursor"}.
func (s *Server) listPatients(c *fiber.Ctx) error {
	f, err := s.patientFilter(c)
	if err != nil {
		return err
	}
	page, err := s.deps.Patients.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	// Each record's JSON comes from the directory, encoded once per
	// version, into the response's own (pooled) body buffer.
	c.Response().ResetBody()
	if err := page.WriteJSON(c.Response().BodyWriter()); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return nil
}

// createRequest is the body of POST /patients: a patient, and whether
// the caller saw the duplicate warning and creates it anyway.
type createRequest struct {
	patient.Input
	ConfirmDuplicate bool `json:"confirm_duplicate"`
}

// duplicateProblem is the 409 answer of a likely duplicate.
type duplicateProblem struct {
	Problem
	Duplicates []patient.Candidate `json:"duplicates"`
}

// createPatient answers POST /patients with 201 and the new patient, or
// 409 with "duplicates" when the data looks like a registered patient
// (the same body with "confirm_duplicate": true creates it).
func (s *Server) createPatient(c *fiber.Ctx) error {
	var in createRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.deps.Patients.CreateChecked(c.UserContext(), in.Input, in.ConfirmDuplicate)
	var dup *patient.DuplicateError
	if errors.As(err, &dup) {
		pr := problemOf(c, err)
		c.Set(fiber.HeaderContentType, "application/problem+json")
		return c.Status(pr.Status).JSON(duplicateProblem{Problem: pr, Duplicates: dup.Candidates}, "application/problem+json")
	}
	if err != nil {
		return err
	}
	c.Location(s.cfg.BasePath + "/api/v1/patients/" + p.ID)
	return created(c, withETag(c, p))
}

// getPatient answers GET /patients/{id}; the ETag is the version.
func (s *Server) getPatient(c *fiber.Ctx) error {
	p, err := s.deps.Patients.Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return s.mergedOr(c, err) // a merged-away id: 410 with merged_into (merge.go)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(withETag(c, p))
}

// updatePatient answers PATCH /patients/{id}: a partial object naming
// the version it read (a "version" field or an If-Match header).
func (s *Server) updatePatient(c *fiber.Ctx) error {
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	var patch patient.Patch
	if err := decodeJSON(c, &patch); err != nil {
		return err
	}
	p, err := s.deps.Patients.Update(c.UserContext(), c.Params("id"), version, patch)
	if err != nil {
		return err
	}
	return c.JSON(withETag(c, p))
}

// deletePatient answers DELETE /patients/{id} with 204 (admin only).
func (s *Server) deletePatient(c *fiber.Ctx) error {
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	if err := s.deps.Patients.Delete(c.UserContext(), c.Params("id"), version); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// statusRequest is the body of POST /patients/{id}/status.
type statusRequest struct {
	To      patient.Status `json:"to"`
	Reason  string         `json:"reason"`
	Version int            `json:"version"`
}

// changePatientStatus answers POST /patients/{id}/status with the
// updated patient.
func (s *Server) changePatientStatus(c *fiber.Ctx) error {
	var req statusRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	if req.Version == 0 {
		req.Version = version
	}
	p, err := s.deps.Patients.ChangeStatus(c.UserContext(), c.Params("id"), req.To, req.Reason, req.Version)
	if err != nil {
		return err
	}
	return c.JSON(withETag(c, p))
}

// patientHistory answers GET /patients/{id}/history.
func (s *Server) patientHistory(c *fiber.Ctx) error {
	h, err := s.deps.Patients.History(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(h)
}

// patientStats answers GET /patients/stats (dashboard figures), scoped
// like the list (panel=mine|all).
func (s *Server) patientStats(c *fiber.Ctx) error {
	st, err := s.deps.Patients.Stats(c.UserContext(), patient.StatsOptions{Panel: c.Query("panel")})
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// patientWorkflow answers GET /patients/workflow: the statuses and the
// allowed transitions, for the UI and the chat assistant.
func (s *Server) patientWorkflow(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"statuses": patient.Statuses(), "transitions": patient.Transitions()})
}

// withETag sets the ETag to the record's version and returns p.
func withETag(c *fiber.Ctx, p *patient.Patient) *patient.Patient {
	c.Set(fiber.HeaderETag, `"`+strconv.Itoa(p.Version)+`"`)
	return p
}

// ifMatch reads the version from If-Match: "3", 3 or W/"3"; 0 when absent.
func ifMatch(c *fiber.Ctx) (int, error) {
	h := strings.TrimSpace(c.Get(fiber.HeaderIfMatch))
	if h == "" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fault.New(fault.ErrInvalid, "bad If-Match header: send the version you read, e.g. If-Match: \"3\"")
	}
	return n, nil
}
