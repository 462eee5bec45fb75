package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pfinni/pfinni/core/plugin/fault"
)

// ErrNotFound means no installed plugin has the name.
var ErrNotFound = errors.New("plugin not found")

// ErrNoPlugin means no enabled plugin serves what was asked (an import
// format, insurance, ...).
var ErrNoPlugin = errors.New("no enabled plugin serves this")

// Call runs hook on the named plugin with req (encoded as JSON) and
// decodes the result into resp (which may be nil). It fails with
// fault.Unavailable if the plugin is not in service. Errors are an
// *sdk.Error (the plugin's deliberate answer), a *fault.Error or a
// context error. While the plugin is loading, Call waits for it (bounded
// by ctx and Options.LoadWait).
func (r *Registry) Call(ctx context.Context, name, hook string, req, resp any) error {
	e, ok := r.routes.Load().byName[name]
	if !ok {
		r.awaitLoaded(ctx, func(e *entry) bool { return e.m.Name == name })
		e, ok = r.routes.Load().byName[name]
	}
	if !ok {
		if r.find(name) == nil {
			return fmt.Errorf("call plugin %q: %w", name, ErrNotFound)
		}
		return fault.New(name, hook, fault.Unavailable, fmt.Errorf("plugin is %s", r.find(name).getState()))
	}
	return r.call(ctx, e, hook, req, resp, nil)
}

// call runs one hook on e, decodes the result into resp, runs validate
// (if any) on it, and records the outcome once.
func (r *Registry) call(ctx context.Context, e *entry, hook string, req, resp any, validate func() error) error {
	in, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("call plugin %q %s: encode request: %w", e.m.Name, hook, err)
	}
	ctx, span := r.tracer.Start(ctx, "plugin.call "+hook, trace.WithAttributes(
		attribute.String("plugin.name", e.m.Name), attribute.String("plugin.kind", string(e.m.Kind)), attribute.String("plugin.hook", hook)))
	defer span.End()
	e.inflight.RLock()
	defer e.inflight.RUnlock()
	if e.rt == nil {
		return fault.New(e.m.Name, hook, fault.Unavailable, errors.New("plugin is not running"))
	}
	start := time.Now()
	out, err := e.rt.Call(ctx, hook, in)
	if err == nil && resp != nil {
		if derr := json.Unmarshal(out, resp); derr != nil {
			err = fault.New(e.m.Name, hook, fault.Malformed, fmt.Errorf("result does not decode: %v", derr))
		}
	}
	if err == nil && validate != nil {
		if verr := validate(); verr != nil {
			err = fault.New(e.m.Name, hook, fault.Malformed, verr)
		}
	}
	r.record(e, time.Since(start), err)
	if err != nil {
		span.RecordError(fault.Redacted(err)) // the kind only, never plugin text (review M6)
		span.SetStatus(codes.Error, string(fault.KindOf(err)))
	}
	return err
}

// record updates e's stats and circuit breaker after one call.
func (r *Registry) record(e *entry, d time.Duration, err error) {
	counts := fault.Counts(err)
	e.mu.Lock()
	e.stats.record(d, err, counts)
	trip := false
	switch {
	case counts:
		e.faults++
		trip = e.faults >= e.threshold && e.state == StateReady
	case err == nil:
		e.faults = 0
	}
	e.mu.Unlock()
	if trip {
		go r.trip(e, err)
	}
}

// trip takes e out of service after repeated faults.
func (r *Registry) trip(e *entry, cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.mu.Lock()
	if e.state != StateReady {
		e.mu.Unlock()
		return
	}
	e.state = StateFaulted
	e.reason = fmt.Sprintf("out of service after %d consecutive faults; last: %v", e.faults, cause)
	if d := r.opts.BreakerCooldown; d > 0 {
		e.probation = time.AfterFunc(d, func() { r.readmit(e) })
	}
	e.mu.Unlock()
	r.logger.Error("plugin taken out of service", "plugin", e.m.Name, "fault", fault.Label(cause)) // the kind only (review M6)
	r.rebuild()
	if f := r.opts.OnOutOfService; f != nil {
		go f(e.m.Name)
	}
}

// readmit puts a tripped plugin back on probation: one more fault trips
// it again.
func (r *Registry) readmit(e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.mu.Lock()
	if e.state != StateFaulted || r.closed {
		e.mu.Unlock()
		return
	}
	e.state, e.reason = StateReady, "on probation after a fault"
	e.faults = e.threshold - 1
	e.probation = nil
	e.mu.Unlock()
	r.logger.Info("plugin back on probation", "plugin", e.m.Name)
	r.rebuild()
}
