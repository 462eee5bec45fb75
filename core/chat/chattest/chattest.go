// Package chattest runs chat plugins in process for tests and the
// evaluation harness: Plugins routes intents and knowledge searches to
// sdk.Plugin values through sdk.Dispatch — the same code path the WASM and
// process runtimes use — with the registry's semantics (best score at or
// above MinScore answers; ties go to the earlier plugin; every call under
// the caller's deadline). Host adapts a chat.Patients to sdk.Host.
//
// For tests only: production routes through core/plugin.Registry.
package chattest

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/plugin/intent"
	"github.com/pfinni/pfinni/sdk"
)

// Plugins routes to in-process plugins.
type Plugins struct {
	List     []sdk.Plugin
	Host     sdk.Host // may be nil
	MinScore float64  // default 0.5
}

var (
	_ chat.Intents   = (*Plugins)(nil)
	_ chat.Knowledge = (*Plugins)(nil)
)

func (p *Plugins) call(ctx context.Context, pl sdk.Plugin, hook string, req, resp any) error {
	in, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if p.Host != nil {
		ctx = sdk.WithHost(ctx, p.Host)
	}
	done := make(chan []byte, 1)
	go func() { done <- sdk.Dispatch(ctx, pl, hook, in) }()
	select {
	case out := <-done:
		return sdk.DecodeEnvelope(out, resp)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// MatchIntent asks every intent plugin and returns the best claim.
func (p *Plugins) MatchIntent(ctx context.Context, req sdk.MatchRequest) (intent.Match, bool) {
	min := p.MinScore
	if min == 0 {
		min = 0.5
	}
	var best intent.Match
	for _, pl := range p.List {
		if pl.Intent == nil {
			continue
		}
		var m sdk.MatchResult
		if err := p.call(ctx, pl, sdk.HookIntentMatch, req, &m); err != nil {
			continue
		}
		if m.Score > best.Score {
			best = intent.Match{Plugin: pl.Name, Intent: m.Intent, Score: m.Score, Entities: m.Entities}
		}
	}
	return best, best.Score >= min
}

// HandleIntent asks the plugin that matched.
func (p *Plugins) HandleIntent(ctx context.Context, m intent.Match, req sdk.IntentRequest) (sdk.IntentReply, error) {
	req.Intent, req.Entities = m.Intent, m.Entities
	for _, pl := range p.List {
		if pl.Name == m.Plugin {
			var r sdk.IntentReply
			err := p.call(ctx, pl, sdk.HookIntentHandle, req, &r)
			return r, err
		}
	}
	return sdk.IntentReply{}, sdk.Errorf(sdk.CodeNotFound, "no plugin %q", m.Plugin)
}

// SearchKnowledge merges every knowledge plugin's articles by score.
func (p *Plugins) SearchKnowledge(ctx context.Context, req sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	out := []sdk.Article{}
	for _, pl := range p.List {
		if pl.Knowledge == nil {
			continue
		}
		var res sdk.KBSearchResult
		if err := p.call(ctx, pl, sdk.HookKBSearch, req, &res); err == nil {
			out = append(out, res.Articles...)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if req.Limit > 0 && len(out) > req.Limit {
		out = out[:req.Limit]
	}
	return sdk.KBSearchResult{Articles: out}, nil
}

// Host is an sdk.Host over the patient service (patients:read only).
type Host struct {
	Patients chat.Patients
}

var _ sdk.Host = Host{}

// SearchPatients lists patients matching the text as the user in ctx.
func (h Host) SearchPatients(ctx context.Context, q sdk.PatientQuery) (sdk.PatientList, error) {
	return chat.HostPatients{Patients: h.Patients}.SearchPatients(ctx, q)
}

// KBSearch is not offered.
func (Host) KBSearch(context.Context, sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	return sdk.KBSearchResult{}, sdk.ErrNoHost
}

// Log discards.
func (Host) Log(context.Context, sdk.LogLevel, string) {}
