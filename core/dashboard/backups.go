package dashboard

import (
	"context"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/backup"
)

// Backups makes and lists backups (*backup.Service); the service audits
// each backup made.
type Backups interface {
	List(ctx context.Context) ([]backup.Info, error)
	Create(ctx context.Context) (backup.Info, error)
	Dir() string
}

var _ Backups = (*backup.Service)(nil)

// bindBackups binds the admin's Backups page: the backups in backup_dir
// (from each file's manifest: no PHI) and a "Back up now" button. Admin
// only.
func (db *Dashboard) bindBackups(r fiber.Router) {
	admin := allow(adminPages)
	r.Get("/admin/backups", db.session, admin, db.backupsPage)
	r.Post("/admin/backups", db.session, admin, db.backupCreate)
}

// backupsView is the Backups page.
type backupsView struct {
	Items    []backup.Info
	Dir      string
	Schedule string
	Keep     int
	Key      bool
	Created  string
}

func (db *Dashboard) backupsPage(c *fiber.Ctx) error {
	if db.d.Backups == nil {
		return unavailable("backups")
	}
	items, err := db.d.Backups.List(c.UserContext())
	if err != nil {
		return err
	}
	v := backupsView{Items: items, Dir: db.d.Backups.Dir(), Created: c.Query("created")}
	if cfg := db.d.Config; cfg != nil {
		v.Schedule, v.Keep, v.Key = cfg.BackupSchedule, cfg.BackupKeep, cfg.BackupKey != ""
	}
	return db.render(c, fiber.StatusOK, "backups", db.view(c, "Backups", "backups", v))
}

// backupCreate makes a backup now and shows the list with it.
func (db *Dashboard) backupCreate(c *fiber.Ctx) error {
	if db.d.Backups == nil {
		return unavailable("backups")
	}
	b, err := db.d.Backups.Create(c.UserContext())
	if err != nil {
		return err
	}
	return c.Redirect(db.base+"/admin/backups?"+url.Values{"created": {b.Name}}.Encode(), fiber.StatusSeeOther)
}
