package plugintest

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/sdktest"
)

// Patients is an in-memory hostcall.PatientReader.
type Patients struct {
	List []sdk.PatientSummary
	Err  error
}

// SearchPatients filters List by status, provider and text, as
// sdktest.Host does for plugin authors.
func (p *Patients) SearchPatients(ctx context.Context, q sdk.PatientQuery) (sdk.PatientList, error) {
	if p.Err != nil {
		return sdk.PatientList{}, p.Err
	}
	return (&sdktest.Host{Patients: p.List}).SearchPatients(ctx, q)
}

// KB is an in-memory hostcall.KBSearcher.
type KB struct{ Articles []sdk.Article }

// Search returns articles whose title contains the query.
func (k *KB) Search(_ context.Context, req sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	out := sdk.KBSearchResult{Articles: []sdk.Article{}}
	for _, a := range k.Articles {
		if strings.Contains(strings.ToLower(a.Title), strings.ToLower(req.Query)) {
			out.Articles = append(out.Articles, a)
		}
	}
	return out, nil
}

// Audit is an in-memory hostcall.Auditor.
type Audit struct {
	mu     sync.Mutex
	events []audit.Event
	Fail   bool
}

// Record stores ev, or fails when Fail is set.
func (a *Audit) Record(_ context.Context, ev audit.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Fail {
		return errors.New("audit store down")
	}
	a.events = append(a.events, ev)
	return nil
}

// Events returns the events recorded so far.
func (a *Audit) Events() []audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]audit.Event(nil), a.events...)
}

// State is an in-memory plugin.StateStore.
type State struct {
	mu      sync.Mutex
	enabled map[string]bool
	Fail    bool
}

// Load returns the saved states.
func (s *State) Load(context.Context) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail {
		return nil, errors.New("state store down")
	}
	out := map[string]bool{}
	for k, v := range s.enabled {
		out[k] = v
	}
	return out, nil
}

// Save records one plugin's state.
func (s *State) Save(_ context.Context, name string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail {
		return errors.New("state store down")
	}
	if s.enabled == nil {
		s.enabled = map[string]bool{}
	}
	s.enabled[name] = enabled
	return nil
}
