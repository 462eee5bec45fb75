package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/dbengine"
)

// runDB is `pfinni db serve`: the embedded engine (dbhost/, supervised
// by core/dbengine) as a standalone server on a fixed address, so that
// two or more `pfinni serve` processes share one database through
// PFINNI_DB_URL, PFINNI_DB_USER and PFINNI_DB_PASSWORD (docs/scaling.md).
// The data lives in data_dir/db, as for the embedded engine of `pfinni
// serve`; it runs until interrupted.
func runDB(ctx context.Context, cfg *config.Config, args []string, out io.Writer) error {
	const usage = "usage: pfinni db serve --addr HOST:PORT [--user U] [--password P] [--memory]"
	if len(args) == 0 || args[0] != "serve" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("pfinni db serve", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:8000", "address the database listens on (host:port)")
	user := fs.String("user", cfg.DBUser, "root user every client signs in as (default: db_user / PFINNI_DB_USER)")
	pass := fs.String("password", cfg.DBPassword, "its password, 16-128 letters, digits, - or _ (default: db_password / PFINNI_DB_PASSWORD)")
	memory := fs.Bool("memory", false, "keep the data in memory only (tests, demos)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *user == "" || *pass == "" {
		return fmt.Errorf("db serve: name the root user and password (--user and --password, or PFINNI_DB_USER and PFINNI_DB_PASSWORD)\n%s", usage)
	}
	path := "mem://"
	if !*memory {
		dir, err := cfg.EngineDir()
		if err != nil {
			return fmt.Errorf("db serve: %w", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("db serve: create data dir: %w", err)
		}
		path = "surrealkv://" + dir
	}
	hostDir, err := dbengine.LocateHostDir(cfg.DBHostDir)
	if err != nil {
		return fmt.Errorf("db serve: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	eng, err := dbengine.Start(ctx, dbengine.Config{Path: path, HostDir: hostDir, Bind: *addr, User: *user, Password: *pass, Logger: log})
	if err != nil {
		return fmt.Errorf("db serve: %w", err)
	}
	fmt.Fprintf(out, "database listening on %s (data: %s)\nrun each pfinni serve with PFINNI_DB_URL=%s and the same PFINNI_DB_USER / PFINNI_DB_PASSWORD\n",
		eng.URL(), path, eng.URL())
	<-ctx.Done()
	if err := eng.Stop(); err != nil {
		return fmt.Errorf("db serve: stop: %w", err)
	}
	return nil
}
