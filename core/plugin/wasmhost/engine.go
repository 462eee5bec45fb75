// Package wasmhost runs sandboxed WASM plugins with wazero, speaking the
// pfinni ABI v1 that sdk/wasm implements on the guest side.
//
// An Engine owns the on-disk compilation cache (so a module compiles once
// per version, across restarts) and the host-call Dispatcher. Engine.Load
// compiles a module, checks its ABI exports and returns a Module: a pool
// of warm instances in a runtime of its own, bounded by the plugin's
// memory limit, with no filesystem, network, environment or arguments, and
// a fake clock and random source unless the plugin is granted "clock" or
// "random". Module.Call runs one hook under the plugin's time limit; an
// instance that traps, times out or exhausts memory is discarded and the
// call fails with a *fault.Error.
//
// Imported by core/plugin. Engine and Module are safe for concurrent use;
// one instance never serves two calls at once.
package wasmhost

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/tetratelabs/wazero"

	"github.com/pfinni/pfinni/core/plugin/hostcall"
)

// EngineConfig configures an Engine.
type EngineConfig struct {
	// CacheDir holds wazero's compilation cache; "" keeps it in memory
	// only. Entries are keyed by module checksum, so one folder may serve
	// every data dir and process of an installation (pfinni uses the user
	// cache dir, see config.WASMCacheDir). See cache.go.
	CacheDir string
	// Host serves the guests' host calls. Nil means a Dispatcher with no
	// services (every data operation answers "unavailable").
	Host *hostcall.Dispatcher
	// Logger receives runtime events (not guest output, which goes to
	// Host). Nil discards.
	Logger *slog.Logger
}

// Engine compiles and loads WASM plugins.
type Engine struct {
	cache    wazero.CompilationCache
	cacheDir string // "" when the cache is in memory
	host     *hostcall.Dispatcher
	logger   *slog.Logger
}

// NewEngine returns an Engine. Close it to release the cache.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	e := &Engine{host: cfg.Host, logger: cfg.Logger, cacheDir: cfg.CacheDir}
	if e.host == nil {
		e.host = hostcall.New(hostcall.Services{})
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheDir == "" {
		e.cache = wazero.NewCompilationCache()
		return e, nil
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("wasm compilation cache: %w", err)
	}
	c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("wasm compilation cache: %w", err)
	}
	e.cache = c
	return e, nil
}

// Close releases the compilation cache (the files stay on disk). Close
// every Module first.
func (e *Engine) Close(ctx context.Context) error {
	return e.cache.Close(ctx)
}
