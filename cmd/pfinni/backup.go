package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/app"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/config"
)

const backupUsage = `usage:
  pfinni backup [--out FILE]      write a backup (default: a new file in backup_dir, keeping backup_keep)
  pfinni backup list              the backups in backup_dir, newest first
  pfinni restore FILE [--force]   restore a backup into an empty database (--force replaces what is there)

PFINNI_BACKUP_KEY (64 hex digits) encrypts a backup and lets it carry the key files; restore needs the
same key. An unencrypted backup does not carry them: keep audit.key and webhook.key with the backups.
Stop every pfinni serve on the database before restoring. docs/operations.md has the drill.`

// openStore opens the configured database with no service, and the
// audit trail on it unless noAudit (restore opens it after the data).
func openStore(ctx context.Context, cfg *config.Config, out io.Writer) (*app.App, error) {
	return app.Open(ctx, cfg, app.Options{Out: out, NoHTTP: true, StoreOnly: true})
}

// openAudit opens the audit trail of cfg on a's database.
func openAudit(cfg *config.Config, a *app.App) (*audit.Log, error) {
	keys, err := audit.LoadKeyring(cfg.AuditKeyPath())
	if err != nil {
		return nil, fmt.Errorf("load the audit chain key: %w", err)
	}
	return audit.New(a.DB, audit.Options{Keys: keys, HeadFile: cfg.AuditHeadPath()}), nil
}

// runBackup is `pfinni backup`: a consistent backup of the database, to
// --out or into backup_dir; `pfinni backup list` lists backup_dir.
func runBackup(ctx context.Context, cfg *config.Config, args []string, out io.Writer) error {
	fs := pflag.NewFlagSet("pfinni backup", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dest := fs.String("out", "", "")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("backup: %w\n%s", err, backupUsage)
	}
	list := false
	switch {
	case fs.NArg() == 1 && fs.Arg(0) == "list" && *dest == "":
		list = true
	case fs.NArg() > 0:
		return fmt.Errorf("backup: unexpected argument %q\n%s", fs.Arg(0), backupUsage)
	}
	a, err := openStore(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	log, err := openAudit(cfg, a)
	if err != nil {
		return err
	}
	defer log.Close(context.Background())
	a.Audit = log
	svc, err := app.NewBackupService(cfg, a)
	if err != nil {
		return err
	}
	sys := actor.System(ctx)
	if list {
		items, err := svc.List(sys)
		if err != nil {
			return err
		}
		return printBackups(out, svc.Dir(), items)
	}
	var b backup.Info
	if *dest != "" {
		b, err = svc.WriteFile(sys, *dest)
	} else {
		b, err = svc.Create(sys)
		*dest = filepath.Join(svc.Dir(), b.Name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s: %d records, audit head seq %d, %d bytes, content SHA-256 %s\n", *dest, b.Records, b.AuditSeq, b.Size, b.Content)
	if b.KeysIncluded {
		fmt.Fprintln(out, "encrypted; it carries the key files (keep PFINNI_BACKUP_KEY apart from it)")
	} else {
		fmt.Fprintf(out, "not encrypted and without the key files: keep %s and %s with your backups\n", cfg.AuditKeyPath(), cfg.WebhookKeyPath())
	}
	return nil
}

func printBackups(out io.Writer, dir string, items []backup.Info) error {
	if len(items) == 0 {
		_, err := fmt.Fprintf(out, "no backups in %s\n", dir)
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tSIZE\tRECORDS\tAUDIT SEQ\tENCRYPTED\tVERSION")
	for _, b := range items {
		if b.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t%d\t-\t-\t-\t%s\n", b.Name, b.Size, b.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%t\t%s\n", b.Name, b.CreatedAt.Format("2006-01-02 15:04:05Z"), b.Size, b.Records, b.AuditSeq, b.Encrypted, b.Version)
	}
	return tw.Flush()
}

// errServeRunning refuses a restore under a running server.
var errServeRunning = errors.New("pfinni serve is running on this data dir: stop it before restoring")

// runRestore is `pfinni restore FILE [--force]`: it loads a backup into an
// empty database, puts its key files in place, audits the restore on the
// restored trail (which also anchors its head again) and verifies the
// trail.
func runRestore(ctx context.Context, cfg *config.Config, args []string, out io.Writer) error {
	fs := pflag.NewFlagSet("pfinni restore", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	force := fs.Bool("force", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return fmt.Errorf("restore: want one backup file\n%s", backupUsage)
	}
	file := fs.Arg(0)
	key, err := backup.ParseKey(cfg.BackupKey)
	if err != nil {
		return fmt.Errorf("restore: invalid backup_key (%s): %w", config.EnvName("backup_key"), err)
	}
	a, err := openStore(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	if cfg.Embedded() && a.Engine == nil {
		return errServeRunning
	}
	m, err := backup.Restore(ctx, a.DB, file, backup.RestoreOptions{Key: key, Force: *force,
		KeyFiles: app.BackupKeyFiles(cfg), HeadFile: cfg.AuditHeadPath()})
	if err != nil {
		return err
	}
	records := 0
	for _, d := range m.Tables {
		records += d.Count
	}
	fmt.Fprintf(out, "restored %s (pfinni %s, %s): %d records in %d tables, audit head seq %d\n",
		filepath.Base(file), m.Version, m.CreatedAt.Format("2006-01-02 15:04:05Z"), records, len(m.Tables), m.AuditHead.Seq)
	if m.Schema != backup.SchemaHash() {
		fmt.Fprintf(out, "note: the backup was written under another schema (pfinni %s); every record passed this version's checks\n", m.Version)
	}

	log, err := openAudit(cfg, a)
	if err != nil {
		return err
	}
	sys := actor.System(ctx)
	rerr := log.Record(sys, audit.Event{Action: "backup.restore", Resource: "backup", Record: filepath.Base(file), Outcome: audit.OutcomeSuccess,
		Detail: fmt.Sprintf("%d records, audit seq %d, forced %t", records, m.AuditHead.Seq, *force)})
	if err := errors.Join(rerr, log.Close(context.Background())); err != nil {
		return fmt.Errorf("restore: audit the restore: %w", err)
	}
	verify, err := openAudit(cfg, a)
	if err != nil {
		return err
	}
	defer verify.Close(context.Background())
	return auditVerify(sys, verify, nil, out)
}
