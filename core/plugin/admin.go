package plugin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
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

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// List returns every installed plugin in manifest order.
func (r *Registry) List() []Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Info, 0, len(r.entries))
	for _, e := range r.entries {
		out = append(out, e.info())
	}
	return out
}

// Get returns one plugin's info.
func (r *Registry) Get(name string) (Info, error) {
	e := r.find(name)
	if e == nil {
		return Info{}, fmt.Errorf("plugin %q: %w", name, ErrNotFound)
	}
	return e.info(), nil
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
	e := r.find(name)
	if e == nil {
		r.auditAdmin(ctx, action, name, audit.OutcomeFailure, "no such plugin")
		return Info{}, fmt.Errorf("%s %q: %w", action, name, ErrNotFound)
	}
	e.lc.Lock()
	defer e.lc.Unlock()
	if r.isClosed() {
		return Info{}, fmt.Errorf("%s %q: registry is closed", action, name)
	}
	if err := r.state.Save(ctx, name, on); err != nil {
		r.auditAdmin(ctx, action, name, audit.OutcomeError, "state not saved")
		return Info{}, fmt.Errorf("%s %q: save state: %w", action, name, err)
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
		if err := e.stop(ctx); err != nil {
			r.logger.Error("stop plugin", "plugin", name, "err", err)
		}
	}
	r.auditAdmin(ctx, action, name, audit.OutcomeSuccess, "state "+string(e.getState()))
	return e.info(), nil
}

func (r *Registry) auditAdmin(ctx context.Context, action, name, outcome, detail string) {
	if r.opts.Services.Audit == nil {
		return
	}
	a := actor.From(ctx)
	ev := audit.Event{Actor: a.UserID, Role: string(a.Role), Action: action, Resource: "plugin", Record: name,
		Outcome: outcome, RequestID: a.RequestID, IP: a.IP, Detail: detail}
	if err := r.opts.Services.Audit.Record(ctx, ev); err != nil {
		r.logger.Error("audit plugin change", "plugin", name, "err", err)
	}
}
