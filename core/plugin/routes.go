package plugin

import (
	"context"
	"maps"
	"sync"

	"github.com/pfinni/pfinni/sdk"
)

// routes is an immutable routing table: only plugins in service appear.
type routes struct {
	byName    map[string]*entry
	intents   []*entry
	importers map[string]*entry // import format -> first plugin in manifest order
	kb        []*entry
	insurance []*entry
}

// rebuild recomputes the routing table from the entries' states and
// wakes everything waiting for a change (Changed). Called with r.mu held.
func (r *Registry) rebuild() {
	defer func() {
		close(r.changed)
		r.changed = make(chan struct{})
	}()
	rt := &routes{byName: map[string]*entry{}, importers: map[string]*entry{}}
	if !r.closed {
		for _, e := range r.entries {
			if e.getState() != StateReady {
				continue
			}
			rt.byName[e.m.Name] = e
			p := e.m.Provides
			if len(p.Intents) > 0 {
				rt.intents = append(rt.intents, e)
			}
			for _, f := range p.ImportFormats {
				if _, ok := rt.importers[f]; !ok {
					rt.importers[f] = e
				}
			}
			if len(p.KBTopics) > 0 {
				rt.kb = append(rt.kb, e)
			}
			if p.Insurance {
				rt.insurance = append(rt.insurance, e)
			}
		}
	}
	r.routes.Store(rt)
}

func (r *Registry) find(name string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.entries {
		if e.m.Name == name {
			return e
		}
	}
	return nil
}

// kbSelf answers the kb:read host operation from the registry's own
// knowledge modules when the core supplies no other searcher.
type kbSelf struct{ r *Registry }

func (k kbSelf) Search(ctx context.Context, req sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	return k.r.SearchKnowledge(ctx, req)
}

// memState is the in-memory StateStore used when none is given.
type memState struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *memState) Load(context.Context) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m), nil
}

func (s *memState) Save(_ context.Context, name string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = enabled
	return nil
}
