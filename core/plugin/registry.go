// Package plugin is pfinni's plugin registry: it reads plugin-manifest.yaml,
// verifies and loads each plugin (WASM through wasmhost, process plugins
// through processhost), routes calls from the core to the plugins that are
// enabled and healthy, keeps per-plugin statistics, and takes a plugin out
// of service when it faults repeatedly.
//
// Lifecycle: New -> Start (Open: read the manifest, enabled plugins are
// "loading"; then LoadAll: verify -> compile -> ready, GOMAXPROCS plugins
// at a time) -> calls, Enable/Disable at any time -> Close (reverse order
// of start). The routing table is an immutable value swapped atomically,
// so calls never wait for an admin action; Disable drains the plugin's
// in-flight calls before it stops the plugin. A call that needs a plugin
// which is still loading waits for it, bounded by Options.LoadWait
// (readiness.go), instead of failing.
//
// Built once by core/app and passed to the chat, import and insurance
// services and to the admin API. A Registry is safe for concurrent use.
package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/wasmhost"
	"github.com/pfinni/pfinni/sdk"
)

// StateStore persists the admin's enable/disable choice per plugin
// (SurrealDB in production). Plugins absent from Load take the manifest's
// enabled flag.
type StateStore interface {
	Load(ctx context.Context) (map[string]bool, error)
	Save(ctx context.Context, name string, enabled bool) error
}

// Options configure a Registry. Only ManifestPath is required.
type Options struct {
	// ManifestPath is plugin-manifest.yaml; artifact paths resolve
	// against its directory.
	ManifestPath string
	// CacheDir holds the WASM compilation cache (per artifact checksum,
	// shareable by every data dir of an installation). When empty,
	// DataDir/plugin-cache; when both are empty the cache is in memory.
	CacheDir string
	// DataDir is the fallback home of the compilation cache.
	DataDir string
	// LoadWait bounds how long a call that needs a plugin still loading
	// waits for it (default 20s; negative: never wait).
	LoadWait time.Duration
	// LoadWorkers is how many plugins load (compile) at once (default
	// GOMAXPROCS).
	LoadWorkers int
	// Progress, if set, is told about each plugin LoadAll has loaded (or
	// failed to), from the loading goroutines, one call at a time.
	Progress func(LoadProgress)
	// Services back the host operations (patients:read, kb:read, log)
	// and audit both host operations and enable/disable. When KB is nil
	// the registry's own knowledge modules answer kb:read.
	Services hostcall.Services
	// State persists enable/disable; nil keeps it in memory.
	State StateStore
	// Logger; nil discards.
	Logger *slog.Logger
	// BreakerThreshold is how many consecutive faults take a plugin out
	// of service (default 5).
	BreakerThreshold int
	// BreakerCooldown, if set, lets a tripped plugin back in after this
	// long on probation (one more fault trips it again). Zero keeps it
	// out until an admin enables it.
	BreakerCooldown time.Duration
	// OnOutOfService, if set, is told (on its own goroutine) the name of
	// a plugin the breaker has just taken out of service (core/alerts).
	OnOutOfService func(plugin string)
	// MinIntentScore is the lowest match score MatchIntent accepts
	// (default 0.5).
	MinIntentScore float64
	// Config is merged over a plugin's manifest config, by plugin name:
	// settings the operator gives pfinni (the LLM adapter's URL, model
	// and key) rather than the manifest.
	Config map[string]map[string]any
	// AllowedHosts adds, by plugin name, hosts the operator lets a
	// process plugin with the network capability reach through its
	// egress proxy, beyond the manifest's network.allowedHosts (the LLM
	// adapter's endpoint).
	AllowedHosts map[string][]string
	// DrainTimeout bounds how long Disable and Close wait for a plugin's
	// in-flight calls before they close it under them (default 5s).
	DrainTimeout time.Duration
	// ProcessHealthInterval is how often process plugins are checked
	// (default 10s).
	ProcessHealthInterval time.Duration
	// Tracer provides the spans "plugin.call <hook>"; nil means no tracing.
	Tracer trace.TracerProvider
}

// Registry holds the installed plugins.
type Registry struct {
	opts     Options
	dir      string
	logger   *slog.Logger
	engine   *wasmhost.Engine
	host     *hostcall.Dispatcher
	state    StateStore
	problems []error
	refused  []*manifest.EntryError // the entries behind problems, by name
	// manifestSum is the manifest's checksum as read by Open; the
	// registry does not reload it (ManifestNotice).
	manifestSum []byte
	tracer      trace.Tracer

	mu      sync.Mutex // guards entries, closed, opened, changed and route rebuilds; never held across a load
	entries []*entry   // manifest order
	routes  atomic.Pointer[routes]
	closed  bool
	opened  bool          // Open has read the manifest (or failed to)
	changed chan struct{} // closed (and replaced) at every rebuild
}

// New returns a Registry; call Start to load the plugins.
func New(opts Options) (*Registry, error) {
	if opts.ManifestPath == "" {
		return nil, errors.New("plugin registry: manifest path is required")
	}
	if opts.BreakerThreshold <= 0 {
		opts.BreakerThreshold = 5
	}
	if opts.MinIntentScore <= 0 {
		opts.MinIntentScore = 0.5
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Services.Logger == nil {
		opts.Services.Logger = opts.Logger
	}
	if opts.State == nil {
		opts.State = &memState{m: map[string]bool{}}
	}
	if opts.Tracer == nil {
		opts.Tracer = noop.NewTracerProvider()
	}
	if opts.LoadWait == 0 {
		opts.LoadWait = 20 * time.Second
	}
	if opts.LoadWorkers <= 0 {
		opts.LoadWorkers = goruntime.GOMAXPROCS(0)
	}
	r := &Registry{opts: opts, dir: filepath.Dir(opts.ManifestPath), logger: opts.Logger, state: opts.State,
		tracer: opts.Tracer.Tracer("github.com/pfinni/pfinni/core/plugin"), changed: make(chan struct{})}
	if opts.Services.KB == nil {
		opts.Services.KB = kbSelf{r}
	}
	r.host = hostcall.New(opts.Services)
	cacheDir := opts.CacheDir
	if cacheDir == "" && opts.DataDir != "" {
		cacheDir = filepath.Join(opts.DataDir, "plugin-cache")
	}
	engine, err := wasmhost.NewEngine(wasmhost.EngineConfig{CacheDir: cacheDir, Host: r.host, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("plugin registry: %w", err)
	}
	r.engine = engine
	r.routes.Store(&routes{byName: map[string]*entry{}, importers: map[string]*entry{}})
	return r, nil
}

// Start reads the manifest and loads every enabled plugin: Open, then
// LoadAll. Entries the manifest refuses are reported by Problems;
// plugins that fail to verify or load are listed with state "failed" and
// the reason. Start fails only when the manifest cannot be read at all or
// the state store fails.
func (r *Registry) Start(ctx context.Context) error {
	if err := r.Open(ctx); err != nil {
		return err
	}
	r.LoadAll(ctx)
	return nil
}

// Open reads the manifest and the admin's saved choices: every plugin is
// listed, the enabled ones in state "loading" (so readiness and waiting
// calls know what is to come). It does not load anything; LoadAll does.
func (r *Registry) Open(ctx context.Context) (err error) {
	defer func() {
		r.mu.Lock()
		r.opened = true
		r.rebuild() // wakes anything waiting for Open, even on failure
		r.mu.Unlock()
	}()
	m, entryErrs, err := manifest.Load(r.opts.ManifestPath, sdk.Version)
	if err != nil {
		return fmt.Errorf("start plugins: %w", err)
	}
	sum, _ := manifest.FileSHA256(r.opts.ManifestPath) // Load has just read it
	saved, err := r.state.Load(ctx)
	if err != nil {
		return fmt.Errorf("start plugins: load state: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.manifestSum = sum
	for _, e := range entryErrs {
		r.logger.Error("plugin manifest entry refused", "err", e)
		r.problems = append(r.problems, e)
		r.refused = append(r.refused, e)
	}
	for _, me := range m.Plugins {
		e := newEntry(me, r.opts.BreakerThreshold)
		e.enabled = me.IsEnabled()
		if v, ok := saved[me.Name]; ok {
			e.enabled = v
		}
		if !e.enabled {
			e.state = StateDisabled
		}
		r.entries = append(r.entries, e)
	}
	return nil
}

// Problems returns the manifest entries refused at Start.
func (r *Registry) Problems() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.problems...)
}

// Refused lists the manifest entries refused at Start as plugins in state
// "refused", each with the reason (the manifest line and field), so that
// the admin API and page show them beside the installed plugins.
func (r *Registry) Refused() []Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Info, 0, len(r.refused))
	for _, e := range r.refused {
		out = append(out, Info{Name: refusedName(e), State: StateRefused, Reason: e.Error(), Capabilities: []string{}})
	}
	return out
}

// ManifestNotice says, when plugin-manifest.yaml has changed since start,
// that the change takes effect at the next restart (the registry reads the
// manifest once; Enable and Disable switch the plugins it lists). It is ""
// when the file is as it was read.
func (r *Registry) ManifestNotice() string {
	r.mu.Lock()
	was := r.manifestSum
	r.mu.Unlock()
	if was == nil {
		return ""
	}
	now, err := manifest.FileSHA256(r.opts.ManifestPath)
	if err == nil && bytes.Equal(now, was) {
		return ""
	}
	return filepath.Base(r.opts.ManifestPath) + " has changed since pfinni started: restart pfinni to load the change (enable and disable work without a restart)"
}

// refusal returns why the manifest entry name was refused, or "".
func (r *Registry) refusal(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.refused {
		if refusedName(e) == name {
			return e.Error()
		}
	}
	return ""
}

// refusedName is the plugin name of a refused entry (EntryError quotes
// it, or numbers the entry when it has no usable name).
func refusedName(e *manifest.EntryError) string {
	if n, err := strconv.Unquote(e.Plugin); err == nil {
		return n
	}
	return e.Plugin
}

// Close stops every plugin in reverse order of start and releases the
// WASM engine. Calls after Close fail with fault.Unavailable.
func (r *Registry) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.rebuild()
	entries := r.entries
	r.mu.Unlock()
	var errs []error
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		e.lc.Lock()
		if err := e.stop(ctx, r.drainTimeout()); err != nil {
			errs = append(errs, err)
		}
		e.lc.Unlock()
	}
	errs = append(errs, r.engine.Close(ctx))
	return errors.Join(errs...)
}

func (r *Registry) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// load verifies and starts e's runtime and routes calls to it; on
// failure e is marked failed. It reports whether a WASM module had to be
// compiled (it was not in the on-disk cache). Called with e.lc held,
// without r.mu.
func (r *Registry) load(ctx context.Context, e *entry) (compiled bool) {
	e.setState(StateLoading, "")
	rt, err := r.startRuntime(ctx, e.m)
	if w, ok := rt.(wasmRuntime); ok {
		compiled = w.compiled
	}
	switch {
	case err != nil:
		r.logger.Error("load plugin", "plugin", e.m.Name, "err", err)
		e.setState(StateFailed, err.Error())
	case r.isClosed():
		_ = rt.Close(ctx)
		e.setState(StateDisabled, "registry closed")
	default:
		e.inflight.Lock()
		e.rt = rt
		e.inflight.Unlock()
		e.resetBreaker()
		e.setState(StateReady, "")
		r.logger.Info("plugin ready", "plugin", e.m.Name, "version", e.m.Version, "kind", e.m.Kind)
	}
	r.mu.Lock()
	r.rebuild()
	r.mu.Unlock()
	return compiled
}

func (r *Registry) startRuntime(ctx context.Context, m manifest.Entry) (runtime, error) {
	sum, err := manifest.Verify(r.dir, m)
	if err != nil {
		return nil, err
	}
	cfg, err := configJSON(m, r.opts.Config[m.Name])
	if err != nil {
		return nil, err
	}
	limits := m.Limits.WithDefaults()
	switch m.Kind {
	case manifest.KindWASM:
		bin, err := os.ReadFile(m.ArtifactPath(r.dir))
		if err != nil {
			return nil, fmt.Errorf("plugin %q: %w", m.Name, err)
		}
		// Compare the bytes actually loaded, not only the file verified.
		if got := sha256Hex(bin); got != m.Artifact.SHA256 {
			return nil, fmt.Errorf("plugin %q: %w: artifact changed while loading", m.Name, manifest.ErrChecksum)
		}
		cached := r.engine.Cached(bin, !limits.IsInterruptible())
		mod, err := r.engine.Load(ctx, wasmhost.Config{
			Name: m.Name, Wasm: bin, Capabilities: m.Capabilities,
			Timeout: limits.Timeout.Std(), MemoryLimit: int64(limits.Memory),
			Concurrency: limits.Concurrency, InitConfig: cfg, Uninterruptible: !limits.IsInterruptible(),
		})
		if err != nil {
			return nil, err
		}
		return wasmRuntime{Module: mod, compiled: !cached}, nil
	default:
		return startProcess(ctx, r, m, sum, cfg, limits)
	}
}
