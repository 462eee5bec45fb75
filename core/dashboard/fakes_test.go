package dashboard_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/pfinni/pfinni/core/plugin"
)

// fakePlugins is an in-memory plugin registry.
type fakePlugins struct {
	mu      sync.Mutex
	ps      []plugin.Info
	refused []plugin.Info // manifest entries refused at start
	notice  string        // the manifest changed since start
}

func newFakePlugins() *fakePlugins {
	return &fakePlugins{ps: []plugin.Info{
		{Name: "importer-fhir", Version: "1.0.0", Kind: "wasm", Enabled: true, State: plugin.StateReady, Capabilities: []string{"patients:read"}},
		{Name: "stub-trap", Version: "0.1.0", Kind: "wasm", Enabled: true, State: plugin.StateFaulted, Reason: "trapped 3 times"},
	}}
}

func (f *fakePlugins) List() []plugin.Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]plugin.Info(nil), f.ps...)
}

func (f *fakePlugins) Refused() []plugin.Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]plugin.Info(nil), f.refused...)
}

func (f *fakePlugins) ManifestNotice() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.notice
}

func (f *fakePlugins) set(name string, on bool) (plugin.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.ps {
		if f.ps[i].Name == name {
			f.ps[i].Enabled = on
			f.ps[i].State = plugin.StateDisabled
			if on {
				f.ps[i].State = plugin.StateReady
			}
			return f.ps[i], nil
		}
	}
	for _, r := range f.refused {
		if r.Name == name {
			return plugin.Info{}, fmt.Errorf("enable %q: %w: %s", name, plugin.ErrRefused, r.Reason)
		}
	}
	return plugin.Info{}, fmt.Errorf("plugin %q: %w", name, plugin.ErrNotFound)
}

func (f *fakePlugins) Enable(_ context.Context, name string) (plugin.Info, error) {
	return f.set(name, true)
}
func (f *fakePlugins) Disable(_ context.Context, name string) (plugin.Info, error) {
	return f.set(name, false)
}
