package app

import (
	"fmt"

	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/config"
)

// wireBackups builds the backup service on the store and schedules
// backups on the job queue (backup_schedule, once across all instances)
// into backup_dir, keeping backup_keep of them; the admin's Backups page
// and GET/POST /api/v1/backups list and make them.
func (a *App) wireBackups() error {
	svc, err := NewBackupService(a.Config, a)
	if err != nil {
		return err
	}
	a.Backups = svc
	return backup.RegisterJob(a.Jobs, svc, a.Config.BackupSchedule)
}

// NewBackupService builds the backup service of cfg on a's store, audited
// by a's audit trail when it has one (pfinni backup from the shell too).
func NewBackupService(cfg *config.Config, a *App) (*backup.Service, error) {
	key, err := backup.ParseKey(cfg.BackupKey)
	if err != nil {
		return nil, fmt.Errorf("invalid backup_key (%s): %w", config.EnvName("backup_key"), err)
	}
	opts := backup.Options{Dir: cfg.BackupDirPath(), Keep: cfg.BackupKeep,
		Export: backup.ExportOptions{Key: key, KeyFiles: BackupKeyFiles(cfg), Version: Version}}
	if a.Audit != nil {
		opts.Audit = a.Audit
	}
	return backup.NewService(a.DB, opts), nil
}

// BackupKeyFiles are the key files outside the database a backup names
// (and, encrypted, carries): the audit chain's key, without which the
// restored trail does not verify, and the webhook key, without which the
// restored webhook secrets cannot be unsealed.
func BackupKeyFiles(cfg *config.Config) []backup.KeyFileSource {
	return []backup.KeyFileSource{
		{Name: "audit.key", Path: cfg.AuditKeyPath()},
		{Name: "webhook.key", Path: cfg.WebhookKeyPath()},
	}
}
