package api

import (
	"bufio"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/audit"
)

// bindAuditAPI binds the read-only audit trail: only GET routes exist,
// so no API can change or delete an event. Admins and auditors only; the
// audit service checks the role again and audits every read.
func (s *Server) bindAuditAPI(r fiber.Router) {
	if s.deps.Audit == nil {
		return
	}
	r.Get("/audit", allow(auditAndAdmin), s.listAudit)
	r.Get("/audit/verify", allow(auditAndAdmin), s.verifyAudit)
	r.Get("/audit/head", allow(auditAndAdmin), s.auditHead)
	r.Get("/audit/export.csv", allow(auditAndAdmin), s.exportAudit)
}

// auditFilter reads the query parameters (actor, action, resource,
// record, outcome, from, to, limit, cursor); errors name the parameter.
func auditFilter(c *fiber.Ctx) (audit.Filter, error) {
	return audit.FilterFromParams(c.Queries())
}

// listAudit answers GET /audit: {"items": [...], "next_cursor": "..."}.
func (s *Server) listAudit(c *fiber.Ctx) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	page, err := s.deps.Audit.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// verifyAudit answers GET /audit/verify with the chain's Report.
func (s *Server) verifyAudit(c *fiber.Ctx) error {
	rep, err := s.deps.Audit.Verify(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(rep)
}

// auditHead answers GET /audit/head with the chain's newest event as
// {seq, hash, key_id, at}, to be anchored outside the database.
func (s *Server) auditHead(c *fiber.Ctx) error {
	a, err := s.deps.Audit.Head(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(a)
}

// exportAudit answers GET /audit/export.csv: every event matching the
// filter, streamed. Refusals (role, bad parameters, the database down)
// are answered before the first byte; a failure mid-stream cuts the body
// short and is logged.
func (s *Server) exportAudit(c *fiber.Ctx) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	x, err := s.deps.Audit.OpenExport(ctx, f)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="audit.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	rid := requestID(c)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		if err := x.WriteCSV(ctx, w); err != nil {
			s.log.Error("audit export cut short", "request_id", rid, "err", err)
		}
		_ = w.Flush()
	})
	return nil
}
