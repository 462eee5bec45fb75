// Package app builds every pfinni subsystem once, from a typed config, and
// wires them together: the embedded database engine (or an external
// SurrealDB), the store, telemetry, the audit trail, auth, patients, the
// plugin host and the HTTP server. Dependencies are passed down
// explicitly; nothing is global. cmd/pfinni is its only importer.
//
// Start order (Open, then wireServices in services.go): telemetry ->
// engine -> store -> audit -> auth -> plugins (the registry opens; modules
// load in the background while the rest starts) -> patients (the plugins'
// patients:read is bound then) -> views -> jobs -> review and imports ->
// chat -> e-mail -> webhooks -> alerts -> backups -> eligibility ->
// bootstrap admin -> unfinished imports resume, jobs start, rate limiter,
// HTTP API and pages. Close runs in reverse, draining the audit writer
// before the store goes away so nothing audited is lost.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/api"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/dbengine"
	"github.com/pfinni/pfinni/core/ratelimit"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/telemetry"
)

// Version is set by the build (-ldflags "-X ...app.Version=...").
var Version = "dev"

// App is a running pfinni core.
type App struct {
	Config    *config.Config
	Log       *slog.Logger
	Engine    *dbengine.Engine // nil with an external database
	DB        *store.DB
	Telemetry *telemetry.Providers
	Server    *api.Server
	Services

	closers        []func(context.Context) error
	pluginsStarted chan struct{}
	pluginsGate    <-chan struct{}
	out            io.Writer // Options.Out, safe for concurrent use
}

// WaitPlugins blocks until the plugins have been loaded (or failed to).
// CLI commands that need a plugin (import) call it; the server does not:
// it answers at once, /readyz says 503 until the plugins are loaded
// (Ready), and requests that need a plugin wait for it.
func (a *App) WaitPlugins(ctx context.Context) error {
	if a.pluginsStarted == nil {
		return nil
	}
	select {
	case <-a.pluginsStarted:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Options tune Open for the CLI and tests.
type Options struct {
	// Out receives the one-time start-up messages (admin password, URL).
	Out io.Writer
	// NoHTTP skips building the HTTP server (CLI commands).
	NoHTTP bool
	// Bootstrap creates the admin and demo data on an empty database.
	Bootstrap bool
	// StoreOnly opens the database only, no service (pfinni restore:
	// nothing may write to the database, nor create key files, before
	// the backup is in).
	StoreOnly bool
	// PluginsGate, when not nil, holds plugin loading until it is closed:
	// for tests that must see a server whose plugins are still loading
	// (a warm cache loads them faster than a first /readyz poll).
	PluginsGate <-chan struct{}
}

// NewLogger builds the process logger from config.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Open starts the database (embedded or external) and builds every
// subsystem. On error, whatever was started is stopped again.
func Open(ctx context.Context, cfg *config.Config, opts Options) (a *App, err error) {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	a = &App{Config: cfg, Log: NewLogger(cfg, os.Stderr), out: &lockedWriter{w: opts.Out}, pluginsGate: opts.PluginsGate}
	defer func() {
		if err != nil {
			_ = a.Close(context.Background())
			a = nil
		}
	}()

	a.Telemetry, err = telemetry.Setup(ctx, Version)
	if err != nil {
		return a, err
	}
	a.closers = append(a.closers, a.Telemetry.Shutdown)

	conn := engineConn{URL: func() string { return cfg.DBURL }, User: cfg.DBUser, Pass: cfg.DBPassword, AuthLevel: cfg.DBAuthLevel}
	if cfg.Embedded() {
		if conn, err = a.startEngine(ctx); err != nil {
			return a, err
		}
	}

	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a.DB, err = store.Open(dctx, store.Config{
		URL: conn.URL, Namespace: cfg.DBNamespace, Database: cfg.DBDatabase,
		User: conn.User, Password: conn.Pass, AuthLevel: conn.AuthLevel, Logger: a.Log,
	})
	if err != nil {
		return a, fmt.Errorf("open database: %w", err)
	}
	a.closers = append(a.closers, func(context.Context) error { return a.DB.Close() })

	if opts.StoreOnly {
		return a, nil
	}
	if err := a.wireServices(ctx); err != nil {
		return a, err
	}
	if opts.Bootstrap {
		if err := a.bootstrap(ctx, a.out); err != nil {
			return a, err
		}
	}
	if !opts.NoHTTP {
		// The server finishes imports an earlier run left unfinished.
		a.Imports.Start(ctx)
		if err := a.startJobs(ctx); err != nil {
			return a, err
		}
		// The API's rate limits hold across instances (core/ratelimit).
		limiter := ratelimit.New(a.DB, ratelimit.Options{Limit: cfg.APIRateLimit, Logger: a.Log})
		a.closers = append(a.closers, func(context.Context) error { limiter.Close(); return nil })
		a.Server = api.New(api.Deps{
			Config: cfg, Logger: a.Log, DB: a.DB, Tracer: a.Telemetry.Tracer, Meter: a.Telemetry.Meter,
			Version: Version, Services: a.services(), Limiter: limiter,
		})
		a.wirePages()
	}
	return a, nil
}

// Serve runs the HTTP server until ctx ends.
func (a *App) Serve(ctx context.Context) error {
	if a.Server == nil {
		return errors.New("serve: app opened without HTTP")
	}
	return a.Server.Listen(ctx, a.Config.HTTPAddr)
}

// Close stops everything in reverse start order.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i](ctx))
	}
	a.closers = nil
	return errors.Join(errs...)
}

// lockedWriter serialises writes: start-up output comes from Open and
// from the plugin loader's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
