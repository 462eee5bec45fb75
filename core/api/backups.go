package api

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/backup"
)

// BackupsAdmin makes and lists backups (*backup.Service).
type BackupsAdmin interface {
	List(ctx context.Context) ([]backup.Info, error)
	Create(ctx context.Context) (backup.Info, error)
}

var _ BackupsAdmin = (*backup.Service)(nil)

// bindBackupsAPI binds the backups in backup_dir: the list (newest
// first, from each file's manifest: no PHI) and a backup made now.
// Admin only; the service audits each backup.
func (s *Server) bindBackupsAPI(r fiber.Router) {
	if s.deps.Backups == nil {
		return
	}
	r.Get("/backups", allow(adminOnly), s.listBackups)
	r.Post("/backups", allow(adminOnly), s.createBackup)
}

// listBackups answers GET /backups with {items}.
func (s *Server) listBackups(c *fiber.Ctx) error {
	items, err := s.deps.Backups.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// createBackup answers POST /backups with 201 and the new backup.
func (s *Server) createBackup(c *fiber.Ctx) error {
	b, err := s.deps.Backups.Create(c.UserContext())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(b)
}
