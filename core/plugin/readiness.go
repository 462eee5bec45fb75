package plugin

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// ErrLoading means the plugin that would serve a call is enabled but
// still loading (the server is starting, or an admin just enabled it),
// and did not become ready within Options.LoadWait. It wraps ErrNoPlugin,
// so callers that only ask "is there a plugin" see one error.
var ErrLoading = fmt.Errorf("%w yet: the plugin is still loading", ErrNoPlugin)

// LoadProgress is one step of LoadAll, for start-up output.
type LoadProgress struct {
	Plugin string
	Done   int // plugins loaded (or failed) so far, this one included
	Total  int // plugins LoadAll is loading
	State  State
	// Compiled is true when the WASM module was not in the compilation
	// cache and had to be compiled (the slow first start).
	Compiled bool
	Took     time.Duration
}

// LoadAll loads every plugin Open left "loading", Options.LoadWorkers at
// a time (compiling is CPU-bound), and returns when all are ready or
// failed. Calls to plugins already ready are served meanwhile, and calls
// that need one still loading wait for it (see Options.LoadWait).
func (r *Registry) LoadAll(ctx context.Context) {
	r.mu.Lock()
	var todo []*entry
	for _, e := range r.entries {
		if e.getState() == StateLoading {
			todo = append(todo, e)
		}
	}
	r.mu.Unlock()
	if len(todo) == 0 {
		return
	}
	work := make(chan *entry)
	var (
		pmu  sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	for range min(r.opts.LoadWorkers, len(todo)) {
		wg.Go(func() {
			for e := range work {
				start := time.Now()
				e.lc.Lock()
				compiled := false
				if e.getState() == StateLoading { // an admin may have acted meanwhile
					compiled = r.load(ctx, e)
				}
				e.lc.Unlock()
				pmu.Lock()
				done++
				if r.opts.Progress != nil {
					r.opts.Progress(LoadProgress{Plugin: e.m.Name, Done: done, Total: len(todo), State: e.getState(),
						Compiled: compiled, Took: time.Since(start)})
				}
				pmu.Unlock()
			}
		})
	}
	for _, e := range todo {
		work <- e
	}
	close(work)
	wg.Wait()
}

// Readiness is whether the registry has finished loading: Open has read
// the manifest and no enabled plugin is still loading. Plugins lists the
// enabled plugins by state ("loading", "ready", "failed", "faulted"). A
// plugin that failed to load does not hold readiness back (the admin
// page says why); it is listed as failed.
type Readiness struct {
	Ready   bool             `json:"ready"`
	Plugins map[string]State `json:"plugins"`
}

// Readiness reports the registry's readiness (for /readyz).
func (r *Registry) Readiness() Readiness {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Readiness{Ready: r.opened, Plugins: map[string]State{}}
	for _, e := range r.entries {
		e.mu.Lock()
		on, st := e.enabled, e.state
		e.mu.Unlock()
		if !on {
			continue
		}
		out.Plugins[e.m.Name] = st
		if st == StateLoading {
			out.Ready = false
		}
	}
	return out
}

// WaitReady waits until the registry is ready (see Readiness), at most
// Options.LoadWait or until ctx ends. It returns nil when ready, an
// error wrapping ErrLoading when the bound passed first, ctx.Err() when
// ctx ended.
func (r *Registry) WaitReady(ctx context.Context) error {
	r.awaitLoaded(ctx, func(*entry) bool { return true })
	if err := ctx.Err(); err != nil {
		return err
	}
	if !r.Readiness().Ready {
		return fmt.Errorf("wait for plugins: %w", ErrLoading)
	}
	return nil
}

// WaitAssistant waits while an enabled intent handler or knowledge
// module is loading, at most Options.LoadWait or until ctx ends: the chat
// calls it before it starts a question's per-step deadlines, so that a
// question asked while the server starts is answered by the plugins
// rather than failing. Other plugins (an importer an admin just enabled)
// are not waited for.
func (r *Registry) WaitAssistant(ctx context.Context) {
	r.awaitLoaded(ctx, func(e *entry) bool { return handlesIntents(e) || servesKnowledge(e) })
}

// Changed returns a channel that is closed at the next change of which
// plugins are in service (a plugin became ready, was enabled, disabled or
// taken out of service). Call it again after it fires for the next one.
func (r *Registry) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// awaitLoaded waits while Open has not run or an enabled plugin for
// which need is true is loading, at most Options.LoadWait or until ctx
// ends. It never fails: the caller looks at the routes again.
func (r *Registry) awaitLoaded(ctx context.Context, need func(*entry) bool) {
	if r.opts.LoadWait < 0 {
		return
	}
	var timeout <-chan time.Time
	for {
		ch, waiting := r.loading(need)
		if !waiting {
			return
		}
		if timeout == nil {
			t := time.NewTimer(r.opts.LoadWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ch:
		case <-timeout:
			return
		case <-ctx.Done():
			return
		}
	}
}

// loading reports whether a call for need must wait, and the channel
// that is closed at the next change.
func (r *Registry) loading(need func(*entry) bool) (<-chan struct{}, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.changed, false
	}
	if !r.opened {
		return r.changed, true
	}
	for _, e := range r.entries {
		if need(e) && e.getState() == StateLoading {
			return r.changed, true
		}
	}
	return r.changed, false
}

// unavailable is the error for a call nothing in service can serve:
// ErrLoading when an enabled plugin for need is still loading, else
// ErrNoPlugin.
func (r *Registry) unavailable(need func(*entry) bool) error {
	if _, waiting := r.loading(need); waiting {
		return ErrLoading
	}
	return ErrNoPlugin
}
