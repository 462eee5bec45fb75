package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	corefault "github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/plugin/manifest"
)

// Info is what the admin page and GET /api/v1/plugins show per plugin.
type Info struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	Kind         string            `json:"kind"`
	Description  string            `json:"description,omitempty"`
	SDK          string            `json:"sdk"`
	Capabilities []string          `json:"capabilities"`
	Provides     manifest.Provides `json:"provides"`
	Enabled      bool              `json:"enabled"` // the admin's choice
	State        State             `json:"state"`
	Reason       string            `json:"reason,omitempty"` // why faulted / failed
	Calls        int64             `json:"calls"`
	Errors       int64             `json:"errors"`
	Faults       int64             `json:"faults"`
	P50          time.Duration     `json:"-"`
	P99          time.Duration     `json:"-"`
	P50Millis    float64           `json:"p50_ms"`
	P99Millis    float64           `json:"p99_ms"`
	LastError    string            `json:"last_error,omitempty"`
	LastErrorAt  *time.Time        `json:"last_error_at,omitempty"`

	// Trust says what the plugin can reach: "sandboxed" (WASM: only what
	// its capabilities grant) or "full" (a process plugin runs as
	// pfinni's user with pfinni's rights; only its outbound HTTP through
	// the host's egress proxy is limited to AllowedHosts).
	Trust string `json:"trust"`
	// SHA256 is the artifact checksum the manifest pins (hex).
	SHA256 string `json:"sha256"`
	// AllowedHosts are the hosts a process plugin's egress proxy admits
	// (manifest network.allowedHosts plus the operator's additions).
	AllowedHosts []string `json:"allowed_hosts,omitempty"`
}

func (e *entry) info() Info {
	e.mu.Lock()
	defer e.mu.Unlock()
	p50, p99 := e.stats.percentiles()
	caps := e.m.Capabilities
	if caps == nil {
		caps = []string{}
	}
	in := Info{
		Name: e.m.Name, Version: e.m.Version, Kind: string(e.m.Kind), Description: e.m.Description,
		Trust: trustOf(e.m.Kind), SHA256: e.m.Artifact.SHA256,
		SDK: e.m.SDK, Capabilities: caps, Provides: e.m.Provides,
		Enabled: e.enabled, State: e.state, Reason: e.reason,
		Calls: e.stats.calls, Errors: e.stats.errors, Faults: e.stats.faults,
		P50: p50, P99: p99, P50Millis: ms(p50), P99Millis: ms(p99),
		LastError: e.stats.lastError,
	}
	if !e.stats.lastErrorAt.IsZero() {
		t := e.stats.lastErrorAt
		in.LastErrorAt = &t
	}
	return in
}

// Trust levels shown per plugin.
const (
	TrustSandboxed = "sandboxed"
	TrustFull      = "full"
)

func trustOf(k manifest.Kind) string {
	if k == manifest.KindProcess {
		return TrustFull
	}
	return TrustSandboxed
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// List returns every installed plugin in manifest order.
func (r *Registry) List() []Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Info, 0, len(r.entries))
	for _, e := range r.entries {
		out = append(out, r.infoOf(e))
	}
	return out
}

// infoOf is e's info plus what the registry adds (the egress allow-list).
func (r *Registry) infoOf(e *entry) Info {
	in := e.info()
	if e.m.Kind == manifest.KindProcess {
		in.AllowedHosts = r.allowedHosts(e.m)
	}
	return in
}

// Get returns one plugin's info.
func (r *Registry) Get(name string) (Info, error) {
	e := r.find(name)
	if e == nil {
		return Info{}, fmt.Errorf("plugin %q: %w", name, ErrNotFound)
	}
	return r.infoOf(e), nil
}

// Enable turns a plugin on at runtime: it persists the choice, loads the
// plugin if it is not running (or reloads one that failed), resets its
// circuit breaker and routes calls to it. The change is audited as the
// actor in ctx. A plugin that fails to load stays enabled, in state
// "failed" with the reason; the returned Info says so.
func (r *Registry) Enable(ctx context.Context, name string) (Info, error) {
	return r.setEnabled(ctx, name, true)
}

// Disable turns a plugin off at runtime: it persists the choice, stops
// routing to it, waits for its in-flight calls and stops it (a process
// plugin's process exits). The change is audited as the actor in ctx.
func (r *Registry) Disable(ctx context.Context, name string) (Info, error) {
	return r.setEnabled(ctx, name, false)
}

func (r *Registry) setEnabled(ctx context.Context, name string, on bool) (Info, error) {
	name = strings.Clone(name) // callers may pass zero-copy strings (Fiber params)
	action := "plugin.disable"
	if on {
		action = "plugin.enable"
	}
	// The route checks the role too; this check holds whatever door the
	// call came through.
	if err := requireAdmin(ctx); err != nil {
		_ = r.auditAdmin(ctx, action, name, audit.OutcomeDenied, "caller is not an admin")
		return Info{}, fmt.Errorf("%s %q: %w", action, name, err)
	}
	e := r.find(name)
	if e == nil {
		if reason := r.refusal(name); reason != "" {
			_ = r.auditAdmin(ctx, action, name, audit.OutcomeFailure, "manifest entry refused")
			return Info{}, fmt.Errorf("%s %q: %w: %s; fix plugin-manifest.yaml and restart pfinni", action, name, ErrRefused, reason)
		}
		_ = r.auditAdmin(ctx, action, name, audit.OutcomeFailure, "no such plugin")
		return Info{}, fmt.Errorf("%s %q: %w", action, name, ErrNotFound)
	}
	e.lc.Lock()
	defer e.lc.Unlock()
	if r.isClosed() {
		return Info{}, fmt.Errorf("%s %q: registry is closed", action, name)
	}
	if on && !e.unstick(ctx, r.drainTimeout()) {
		return Info{}, fmt.Errorf("%s %q: %w; try again later or restart pfinni", action, name, ErrDrain)
	}
	e.mu.Lock()
	was, wasState := e.enabled, e.state
	e.mu.Unlock()
	if err := r.state.Save(ctx, name, on); err != nil {
		_ = r.auditAdmin(ctx, action, name, audit.OutcomeError, "state not saved")
		return Info{}, fmt.Errorf("%s %q: save state: %w", action, name, err)
	}
	// Fail closed: an unaudited change is not made. The saved choice is
	// put back and the running plugin is left as it was.
	if err := r.auditAdmin(ctx, action, name, audit.OutcomeSuccess, "was "+string(wasState)); err != nil {
		if rerr := r.state.Save(ctx, name, was); rerr != nil {
			r.logger.Error("restore plugin state after an audit failure", "plugin", name, "err", rerr)
		}
		return Info{}, fmt.Errorf("%s %q: %w", action, name, err)
	}
	e.mu.Lock()
	e.enabled = on
	e.mu.Unlock()
	if on {
		e.inflight.RLock()
		running := e.rt != nil
		e.inflight.RUnlock()
		if running {
			e.resetBreaker()
			e.setState(StateReady, "")
			r.mu.Lock()
			r.rebuild()
			r.mu.Unlock()
		} else {
			r.load(ctx, e)
		}
	} else {
		e.setState(StateDisabled, "")
		r.mu.Lock()
		r.rebuild() // stop routing first, then drain and stop
		r.mu.Unlock()
		if err := e.stop(ctx, r.drainTimeout()); err != nil {
			r.logger.Error("stop plugin", "plugin", name, "err", err)
			if errors.Is(err, ErrDrain) {
				e.setState(StateDisabled, "a call that could not be interrupted is still running")
			}
		}
	}
	return r.infoOf(e), nil
}

// ErrRefused means the plugin's manifest entry was refused at start: it
// cannot be enabled until the manifest is fixed.
var ErrRefused = errors.New("its manifest entry was refused")

// ErrAudit means an enable or disable was refused because its audit
// event could not be stored.
var ErrAudit = errors.New("audit event not stored")

// requireAdmin lets admins and the system (start-up, CLI) change plugins.
func requireAdmin(ctx context.Context) error {
	a := actor.From(ctx)
	switch {
	case a.Role == actor.RoleAdmin || a.Role == actor.RoleSystem:
		return nil
	case a.Anonymous():
		return corefault.New(corefault.ErrUnauthorized, "sign in as an admin to enable or disable plugins")
	}
	return corefault.Newf(corefault.ErrForbidden, "your role (%s) may not enable or disable plugins", a.Role)
}

// auditAdmin stores one enable/disable event; the error wraps ErrAudit.
func (r *Registry) auditAdmin(ctx context.Context, action, name, outcome, detail string) error {
	if r.opts.Services.Audit == nil {
		return nil
	}
	a := actor.From(ctx)
	ev := audit.Event{Actor: a.UserID, Role: string(a.Role), Action: action, Resource: "plugin", Record: name,
		Outcome: outcome, RequestID: a.RequestID, IP: a.IP, Detail: detail}
	if err := r.opts.Services.Audit.Record(ctx, ev); err != nil {
		return fmt.Errorf("%w: %w", ErrAudit, err)
	}
	return nil
}
