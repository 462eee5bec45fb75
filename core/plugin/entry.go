package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/processhost"
	"github.com/pfinni/pfinni/core/plugin/wasmhost"
)

// State is where a plugin is in its lifecycle.
type State string

// Plugin states.
const (
	StateLoading  State = "loading"
	StateReady    State = "ready"    // enabled and serving
	StateDisabled State = "disabled" // turned off by the admin (or the manifest)
	StateFaulted  State = "faulted"  // taken out of service by the circuit breaker
	StateFailed   State = "failed"   // could not be verified or loaded
	StateRefused  State = "refused"  // its manifest entry is invalid (Registry.Refused)
)

// runtime is a loaded plugin of either kind.
type runtime interface {
	Call(ctx context.Context, hook string, in []byte) (json.RawMessage, error)
	Health(ctx context.Context) error
	Close(ctx context.Context) error
}

type wasmRuntime struct {
	*wasmhost.Module
	compiled bool // not found in the compilation cache: compiled by this load
}

type processRuntime struct{ *processhost.Plugin }

func (p processRuntime) Close(context.Context) error { return p.Plugin.Close() }

func startProcess(ctx context.Context, r *Registry, m manifest.Entry, sum []byte, cfg json.RawMessage, l manifest.Limits) (runtime, error) {
	p, err := processhost.Start(ctx, processhost.Config{
		Name: m.Name, Path: m.ArtifactPath(r.dir), SHA256: sum, InitConfig: cfg,
		Timeout: l.Timeout.Std(), HealthInterval: r.opts.ProcessHealthInterval, Logger: r.logger,
		AllowedHosts: r.allowedHosts(m), Capabilities: m.Capabilities, Host: r.host,
	})
	if err != nil {
		return nil, err
	}
	return processRuntime{p}, nil
}

// entry is one installed plugin and its runtime state.
type entry struct {
	m manifest.Entry

	// lc serialises this plugin's lifecycle changes (load, stop,
	// enable, disable); it is held across a load, r.mu is not.
	lc sync.Mutex

	// inflight is held shared by every call and exclusively to swap rt,
	// so stopping a plugin drains its calls first.
	inflight sync.RWMutex
	rt       runtime

	mu        sync.Mutex
	enabled   bool // the admin's choice
	state     State
	reason    string
	stats     stats
	threshold int
	faults    int // consecutive
	probation *time.Timer
	stuck     bool // stop left a call behind that could not be interrupted
}

func newEntry(m manifest.Entry, threshold int) *entry {
	return &entry{m: m, threshold: threshold, state: StateLoading}
}

func (e *entry) setState(s State, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state, e.reason = s, reason
}

func (e *entry) getState() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

func (e *entry) resetBreaker() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = 0
	if e.probation != nil {
		e.probation.Stop()
		e.probation = nil
	}
}

// ErrDrain means a plugin was stopped while one of its calls could not
// be interrupted (a hung uninterruptible WASM call): the plugin is out of
// service, but it cannot be loaded again until that call returns.
var ErrDrain = errors.New("an in-flight call did not stop")

// defaultDrainTimeout is Options.DrainTimeout's default.
const defaultDrainTimeout = 5 * time.Second

func (r *Registry) drainTimeout() time.Duration {
	if r.opts.DrainTimeout > 0 {
		return r.opts.DrainTimeout
	}
	return defaultDrainTimeout
}

// stop drains in-flight calls and closes the runtime. It waits at most
// drain for the calls to finish; then it closes the runtime under them (a
// WASM call is interrupted, a process is killed) and waits at most drain
// again for them to return. A call that still has not returned is left
// behind: stop returns ErrDrain and the entry is marked stuck until it
// returns (see unstick). Called with e.lc held.
func (e *entry) stop(ctx context.Context, drain time.Duration) error {
	e.resetBreaker()
	e.inflight.RLock()
	rt := e.rt
	e.inflight.RUnlock()
	if rt == nil {
		return nil
	}
	var closeErr error
	closed := false
	if !e.lockInflight(ctx, drain) {
		closeErr, closed = rt.Close(ctx), true
		if !e.lockInflight(ctx, drain) {
			e.mu.Lock()
			e.stuck = true
			e.mu.Unlock()
			return fmt.Errorf("stop plugin %q: %w", e.m.Name, ErrDrain)
		}
	}
	e.rt = nil
	e.inflight.Unlock()
	if !closed {
		closeErr = rt.Close(ctx)
	}
	if closeErr != nil {
		return fmt.Errorf("stop plugin %q: %w", e.m.Name, closeErr)
	}
	return nil
}

// unstick reports whether e can be loaded again: true unless a call left
// behind by stop is still running (then, at most drain later, false).
// Called with e.lc held.
func (e *entry) unstick(ctx context.Context, drain time.Duration) bool {
	e.mu.Lock()
	stuck := e.stuck
	e.mu.Unlock()
	if !stuck {
		return true
	}
	if !e.lockInflight(ctx, drain) {
		return false
	}
	e.rt = nil
	e.inflight.Unlock()
	e.mu.Lock()
	e.stuck = false
	e.mu.Unlock()
	return true
}

// lockInflight takes e.inflight exclusively, waiting at most d. It polls
// with TryLock rather than blocking in Lock, so that a call that never
// returns does not leave a pending writer that would block every later
// reader.
func (e *entry) lockInflight(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		if e.inflight.TryLock() {
			return true
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
	}
}

func configJSON(m manifest.Entry, over map[string]any) (json.RawMessage, error) {
	merged := make(map[string]any, len(m.Config)+len(over))
	for k, v := range m.Config {
		merged[k] = v
	}
	for k, v := range over {
		merged[k] = v
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: field config: %w", m.Name, err)
	}
	return b, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// stats are a plugin's call counters and recent latencies.
type stats struct {
	calls, errors, faults int64
	lastError             string
	lastErrorAt           time.Time
	lat                   [512]time.Duration // ring of recent latencies
	n                     int
}

func (s *stats) record(d time.Duration, err error, isFault bool) {
	s.calls++
	s.lat[s.n%len(s.lat)] = d
	s.n++
	if err != nil {
		s.errors++
		s.lastError, s.lastErrorAt = err.Error(), time.Now()
	}
	if isFault {
		s.faults++
	}
}

// percentiles returns p50 and p99 of the recent latencies.
func (s *stats) percentiles() (time.Duration, time.Duration) {
	n := min(s.n, len(s.lat))
	if n == 0 {
		return 0, 0
	}
	xs := slices.Clone(s.lat[:n])
	slices.Sort(xs)
	at := func(q float64) time.Duration { return xs[min(n-1, int(q*float64(n)))] }
	return at(0.50), at(0.99)
}
