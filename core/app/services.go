package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/alerts"
	"github.com/pfinni/pfinni/core/api"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/cache"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/eligibility"
	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/pluginstate"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/views"
	"github.com/pfinni/pfinni/core/webhooks"
	"github.com/pfinni/pfinni/sdk"
)

// Services are the domain services, built once by wireServices.
type Services struct {
	Audit    *audit.Log
	Auth     *auth.Service
	Plugins  *plugin.Registry
	Patients *patient.Service
	Imports  *importer.Service
	Chat     *chat.Service
	// Jobs is the durable job queue (jobs.go); JobsAdmin its admin side.
	Jobs      *jobs.Queue
	JobsAdmin *jobs.Admin
	Cache     *cache.Cache // the two-level cache (core/cache)
	// Eligibility checks insurance coverage (eligibility.go).
	Eligibility *eligibility.Service
	// Email sends invitations, resets and the digest (email.go).
	Email *email.Service
	// Webhooks sends events to registered receivers (webhooks.go).
	Webhooks *webhooks.Service
	// Backups makes and lists backups (backup.go).
	Backups      *backup.Service
	webhookHooks *webhookHooks
	// Alerts raises, stores and delivers alerts (alerts.go).
	Alerts *alerts.Service
	// Views are the saved views of the patient list (core/views).
	Views      *views.Service
	alertHooks *alertHooks
	// Review is the identity review queue the imports fill (core/review).
	Review *review.Service
}

// wireServices builds the domain services on the store, in dependency
// order, and registers their Close (run in reverse).
func (a *App) wireServices(ctx context.Context) error {
	cfg := a.Config
	auditKeys, err := audit.LoadKeyring(cfg.AuditKeyPath())
	if err != nil {
		return fmt.Errorf("load the audit chain key: %w", err)
	}
	a.Audit = audit.New(a.DB, audit.Options{Logs: a.Telemetry.Logger, Keys: auditKeys, HeadFile: cfg.AuditHeadPath()})
	a.closers = append(a.closers, a.Audit.Close)

	lockoutKey, err := auth.LoadOrCreateKey(cfg.AuthKeyPath())
	if err != nil {
		return fmt.Errorf("load the sign-in lockout key: %w", err)
	}
	a.Auth = auth.New(a.DB, a.Audit, auth.Options{
		IdleTimeout: cfg.SessionIdleTimeout, MaxLifetime: cfg.SessionMaxLifetime,
		MaxFailures: cfg.LoginMaxFailures, LockoutDuration: cfg.LockoutDuration,
		LockoutKey: lockoutKey,
	})

	readers := &pluginPatients{} // bound below, once the directory has loaded
	if err := a.wirePlugins(ctx, readers); err != nil {
		return err
	}

	gen := cache.NewGeneration(a.DB, patientGeneration) // figures.go
	patients, err := patient.New(ctx, a.DB, a.Audit, patient.WithLogger(a.Log),
		patient.WithObserver(patientObservers{bumpOnChange{gen: gen, log: a.Log}, a.hooks(), a.alerting()}),
		patient.WithSharedStats(sharedStats{app: a, gen: gen}), patient.WithProvidersSeeAll(cfg.ProvidersSeeAll))
	if err != nil {
		return fmt.Errorf("load patient directory: %w", err)
	}
	a.Patients = patients
	readers.bind(patients)
	a.closers = append(a.closers, func(context.Context) error { return patients.Close() })
	a.Views = views.New(a.DB, a.Audit, views.WithLocation(patients.Location()))

	if err := a.wireJobs(); err != nil {
		return err
	}
	reviewQueue := review.NewQueue(a.DB, a.Audit)
	imp := importer.Deps{DB: a.DB, Patients: patients, Providers: patients, Auditor: a.Audit, Importer: noImporter{}, Jobs: a.Jobs,
		Review: reviewQueue}
	if a.Plugins != nil {
		imp.Importer = a.Plugins
	}
	a.Imports, err = importer.New(imp, importer.Options{MaxBytes: int64(cfg.ImportMaxBytes), Logger: a.Log, OnFinished: finishObservers{a.hooks(), a.alerting()}})
	if err != nil {
		return fmt.Errorf("build import service: %w", err)
	}
	a.closers = append(a.closers, a.Imports.Close)
	a.Review = review.New(reviewQueue, patients, a.Imports)

	host, _ := os.Hostname()
	cd := chat.Deps{DB: a.DB, Patients: patients, Audit: a.Audit, Logger: a.Log, Eligibility: chatEligibility{a}, Views: a.Views, Alerts: a.alerting(),
		Location: patients.Location(), Instance: fmt.Sprintf("%s-%d", host, os.Getpid()),
		Directory: sharedVocabulary{Service: patients, app: a, gen: gen}} // figures.go
	if a.Plugins != nil {
		cd.Intents, cd.Knowledge = a.Plugins, a.Plugins
		if cfg.LLMURL != "" {
			cd.Phraser = chat.PluginPhraser{Plugins: a.Plugins, Name: llmPlugin}
		}
	}
	a.Chat, err = chat.New(ctx, cd, chat.Options{})
	if err != nil {
		return fmt.Errorf("build chat service: %w", err)
	}
	a.closers = append(a.closers, func(context.Context) error { return a.Chat.Close() })
	if err := a.wireEmail(); err != nil {
		return err
	}
	if err := a.wireWebhooks(ctx); err != nil {
		return err
	}
	if err := a.wireAlerts(ctx); err != nil {
		return err
	}
	if err := a.wireBackups(); err != nil {
		return err
	}
	return a.wireEligibility()
}

// wirePlugins loads plugin-manifest.yaml. A missing manifest means no
// plugins (logged); a manifest with bad entries loads the good ones and
// reports the rest on the admin page.
//
// The manifest is read now, so every enabled plugin is known (as
// "loading") before the server answers: /readyz says 503 until they are
// all loaded, and calls that need one wait for it. The plugins are then
// compiled in the background, in parallel, into the compilation cache
// (config.WASMCacheDir), which makes a later start of the same
// installation take well under a second per plugin; a start that has to
// compile prints its progress to the start-up output.
func (a *App) wirePlugins(ctx context.Context, patients hostcall.PatientReader) error {
	path, err := filepath.Abs(a.Config.PluginsManifest)
	if err != nil {
		return fmt.Errorf("plugins manifest path: %w", err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		a.Log.Warn("no plugin manifest; running without plugins", "path", path)
		return nil
	}
	cacheDir := a.pluginCacheDir()
	reg, err := plugin.New(plugin.Options{
		ManifestPath: path,
		CacheDir:     cacheDir,
		Services:     hostcall.Services{Audit: a.Audit, Logger: a.Log, Patients: patients},
		State:        pluginstate.New(a.DB),
		Config:       insuranceConfig(a.Config, pluginConfig(a.Config)),
		AllowedHosts: insuranceHosts(a.Config, pluginHosts(a.Config)),
		Logger:       a.Log,
		Progress:     a.loadProgress(cacheDir),
		// The breaker's trips raise alerts (alerts.go).
		OnOutOfService: a.alerting().pluginOut,
	})
	if err != nil {
		return err
	}
	sys := actor.System(context.WithoutCancel(ctx))
	if err := reg.Open(sys); err != nil {
		a.Log.Error("start plugins", "err", err)
	}
	started := make(chan struct{})
	go func() {
		defer close(started)
		if a.pluginsGate != nil {
			<-a.pluginsGate
		}
		t0 := time.Now()
		// llm_url turns the optional LLM adapter on (first, so that
		// readiness covers it too).
		if a.Config.LLMURL != "" {
			if _, err := reg.Enable(sys, llmPlugin); err != nil {
				a.Log.Error("enable the LLM adapter", "err", err)
			}
		}
		// insurance_url turns the insurance adapter on (docs/insurance.md).
		if a.Config.InsuranceURL != "" {
			if _, err := reg.Enable(sys, insurancePlugin); err != nil {
				a.Log.Error("enable the insurance adapter", "err", err)
			}
		}
		reg.LoadAll(sys)
		a.Log.Info("plugins loaded", "took", time.Since(t0).Round(time.Millisecond), "cache", cacheDir)
	}()
	a.pluginsStarted = started
	a.Plugins = reg
	a.closers = append(a.closers, func(ctx context.Context) error {
		<-started
		return reg.Close(ctx)
	})
	return nil
}

// pluginCacheDir is config.WASMCacheDir, or data_dir/plugin-cache when
// that folder cannot be created (a read-only home): a cache that cannot
// be written costs start-up time, never the start.
func (a *App) pluginCacheDir() string {
	dir := a.Config.WASMCacheDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fallback := filepath.Join(a.Config.DataDir, "plugin-cache")
		a.Log.Warn("plugin cache dir not writable; using the data dir", "dir", dir, "fallback", fallback, "err", err)
		return fallback
	}
	return dir
}

// loadProgress prints "compiling plugins: 3/7 importer-ccda (2.1s)" to the
// start-up output for each plugin that had to be compiled (a first start,
// or a new plugin version); cached plugins load silently.
func (a *App) loadProgress(cacheDir string) func(plugin.LoadProgress) {
	compiled := 0
	return func(p plugin.LoadProgress) {
		if p.Compiled {
			compiled++
			fmt.Fprintf(a.out, "compiling plugins: %d/%d %s (%s)\n", p.Done, p.Total, p.Plugin, p.Took.Round(100*time.Millisecond))
		}
		if p.Done == p.Total && compiled > 0 {
			fmt.Fprintf(a.out, "plugins compiled and cached in %s; later starts skip compiling\n", cacheDir)
		}
	}
}

// services lists the services the API serves.
func (a *App) services() api.Services {
	s := api.Services{Auth: a.Auth, Audit: a.Audit, Patients: a.Patients, Imports: a.Imports, Chat: a.Chat, Jobs: a.JobsAdmin, Eligibility: a.Eligibility, Email: a.Email, Webhooks: a.Webhooks, Alerts: a.Alerts, Views: a.Views, Review: a.Review}
	if a.Backups != nil {
		s.Backups = a.Backups
	}
	if a.Plugins != nil {
		s.Plugins = a.Plugins
	}
	return s
}

// bootstrap creates the first admin and the demo data on an empty
// database (embedded default). A generated admin password is printed
// only when out is a terminal; otherwise (a service, a container, whose
// output ends up in logs) it is written to <data_dir>/admin-password.txt,
// readable by this user only, and only that path is printed.
func (a *App) bootstrap(ctx context.Context, out io.Writer) error {
	ctx = actor.System(ctx)
	created, generated, err := a.Auth.EnsureAdmin(ctx, a.Config.AdminEmail, a.Config.AdminPassword)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(out, "created admin %s\n", a.Config.AdminEmail)
		if generated != "" {
			if f, ok := out.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
				fmt.Fprintf(out, "admin password (shown once): %s\n", generated)
			} else {
				path := filepath.Join(a.Config.DataDir, "admin-password.txt")
				if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("bootstrap: replace the admin password file: %w", err)
				}
				if err := auth.WriteSecretFile(path, generated+"\n"); err != nil {
					return fmt.Errorf("bootstrap: keep the admin password: %w", err)
				}
				fmt.Fprintf(out, "admin password written to %s (readable by this user only; delete it after signing in)\n", path)
			}
		}
	}
	return a.seedDemo(ctx, out)
}

// noImporter answers imports when no plugin manifest is installed.
type noImporter struct{}

func (noImporter) Import(context.Context, sdk.ImportRequest) (sdk.ImportResult, error) {
	return sdk.ImportResult{}, fmt.Errorf("import: %w (no plugin manifest is installed)", plugin.ErrNoPlugin)
}

// llmPlugin is the optional LLM adapter (plugins/llm-openai).
const llmPlugin = "llm-openai"

// pluginConfig passes settings the operator gives pfinni to the plugins
// that need them: the LLM adapter's endpoint, model and key.
func pluginConfig(cfg *config.Config) map[string]map[string]any {
	if cfg.LLMURL == "" {
		return nil
	}
	return map[string]map[string]any{llmPlugin: {"url": cfg.LLMURL, "model": cfg.LLMModel, "key": cfg.LLMKey}}
}

// pluginHosts lets the LLM adapter's egress proxy admit llm_url's host
// (and nothing else): host:port, with the scheme's port when none is given.
func pluginHosts(cfg *config.Config) map[string][]string {
	u, err := url.Parse(cfg.LLMURL)
	if cfg.LLMURL == "" || err != nil || u.Hostname() == "" {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return map[string][]string{llmPlugin: {net.JoinHostPort(u.Hostname(), port)}}
}
