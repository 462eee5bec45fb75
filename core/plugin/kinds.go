package plugin

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/plugin/intent"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/sdk"
)

// IntentMatch is the best claim on a chat message (defined in the leaf
// package intent, which core/chat imports instead of this one).
type IntentMatch = intent.Match

// MatchIntent asks every intent handler in service, concurrently, to
// score the message, and returns the best match at or above
// MinIntentScore (ties go to the earlier plugin in the manifest). A
// plugin that fails or returns a malformed claim is skipped (and counted
// against it); ok is false when nothing matched. While an intent handler
// is still loading it waits for it (bounded by ctx and Options.LoadWait).
func (r *Registry) MatchIntent(ctx context.Context, req sdk.MatchRequest) (IntentMatch, bool) {
	r.awaitLoaded(ctx, handlesIntents)
	handlers := r.routes.Load().intents
	results := make([]IntentMatch, len(handlers))
	var wg sync.WaitGroup
	for i, e := range handlers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m sdk.MatchResult
			err := r.call(ctx, e, sdk.HookIntentMatch, req, &m, func() error {
				if math.IsNaN(m.Score) || m.Score < 0 || m.Score > 1 || m.Score > 0 && !declares(e, m.Intent) {
					return fmt.Errorf("claimed intent %q with score %v; intents must be declared in the manifest and scores lie in [0,1]", m.Intent, m.Score)
				}
				return nil
			})
			if err != nil || m.Score <= 0 {
				return
			}
			results[i] = IntentMatch{Plugin: e.m.Name, Intent: m.Intent, Score: m.Score, Entities: m.Entities}
		}()
	}
	wg.Wait()
	best := IntentMatch{}
	for _, m := range results {
		if m.Score > best.Score {
			best = m
		}
	}
	return best, best.Score >= r.opts.MinIntentScore
}

func handlesIntents(e *entry) bool  { return len(e.m.Provides.Intents) > 0 }
func servesKnowledge(e *entry) bool { return len(e.m.Provides.KBTopics) > 0 }
func servesInsurance(e *entry) bool { return e.m.Provides.Insurance }
func importsFormat(format string) func(*entry) bool {
	return func(e *entry) bool { return slices.Contains(e.m.Provides.ImportFormats, format) }
}

func declares(e *entry, intent string) bool {
	return slices.ContainsFunc(e.m.Provides.Intents, func(i manifest.Intent) bool { return i.Name == intent })
}

// HandleIntent asks the plugin that made match to answer the message.
// req.Intent and req.Entities are taken from match; req.User defaults to
// the actor in ctx.
func (r *Registry) HandleIntent(ctx context.Context, match IntentMatch, req sdk.IntentRequest) (sdk.IntentReply, error) {
	req.Intent, req.Entities = match.Intent, match.Entities
	if req.User.ID == "" {
		a := actor.From(ctx)
		req.User = sdk.User{ID: a.UserID, Role: string(a.Role)}
	}
	var reply sdk.IntentReply
	if err := r.Call(ctx, match.Plugin, sdk.HookIntentHandle, req, &reply); err != nil {
		return sdk.IntentReply{}, err
	}
	if reply.Intent == "" {
		reply.Intent = match.Intent
	}
	return reply, nil
}

// Respond matches and handles a chat message in one step; ok is false
// when no intent handler claims it.
func (r *Registry) Respond(ctx context.Context, msg string, page sdk.PageContext) (reply sdk.IntentReply, ok bool, err error) {
	m, ok := r.MatchIntent(ctx, sdk.MatchRequest{Message: msg, Context: page})
	if !ok {
		return sdk.IntentReply{}, false, nil
	}
	reply, err = r.HandleIntent(ctx, m, sdk.IntentRequest{Message: msg, Context: page})
	return reply, err == nil, err
}

// Intents lists the intents of the handlers in service, with their
// example utterances (for suggestions and the welcome tour).
func (r *Registry) Intents() []IntentInfo {
	var out []IntentInfo
	for _, e := range r.routes.Load().intents {
		for _, i := range e.m.Provides.Intents {
			out = append(out, IntentInfo{Plugin: e.m.Name, Name: i.Name, Examples: i.Examples})
		}
	}
	return out
}

// IntentInfo is one intent a plugin in service declares.
type IntentInfo struct {
	Plugin   string   `json:"plugin"`
	Name     string   `json:"name"`
	Examples []string `json:"examples,omitempty"`
}

// Import routes req to the importer in service for req.Format. While
// the importer is loading it waits for it (bounded by ctx and
// Options.LoadWait); then it fails with ErrLoading if the importer is
// still loading, or ErrNoPlugin if none is enabled.
func (r *Registry) Import(ctx context.Context, req sdk.ImportRequest) (sdk.ImportResult, error) {
	e, ok := r.routes.Load().importers[req.Format]
	if !ok {
		need := importsFormat(req.Format)
		r.awaitLoaded(ctx, need)
		if e, ok = r.routes.Load().importers[req.Format]; !ok {
			return sdk.ImportResult{}, fmt.Errorf("import format %q: %w", req.Format, r.unavailable(need))
		}
	}
	var res sdk.ImportResult
	err := r.call(ctx, e, sdk.HookImport, req, &res, nil)
	return res, err
}

// ImportFormats lists the formats importers in service accept, sorted.
func (r *Registry) ImportFormats() []string {
	var out []string
	for f := range r.routes.Load().importers {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Importer returns an sdk.Importer that routes by format through the
// registry, for code written against the SDK interface.
func (r *Registry) Importer() sdk.Importer { return importerFunc(r.Import) }

type importerFunc func(context.Context, sdk.ImportRequest) (sdk.ImportResult, error)

func (f importerFunc) Import(ctx context.Context, req sdk.ImportRequest) (sdk.ImportResult, error) {
	return f(ctx, req)
}

// SearchKnowledge searches every knowledge module in service
// concurrently and merges their articles by score (best first), keeping
// the first article of each id. Modules that fail are skipped; modules
// still loading are waited for (bounded by ctx and Options.LoadWait).
func (r *Registry) SearchKnowledge(ctx context.Context, req sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	r.awaitLoaded(ctx, servesKnowledge)
	mods := r.routes.Load().kb
	results := make([][]sdk.Article, len(mods))
	var wg sync.WaitGroup
	for i, e := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res sdk.KBSearchResult
			if err := r.call(ctx, e, sdk.HookKBSearch, req, &res, nil); err == nil {
				results[i] = res.Articles
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	out := []sdk.Article{}
	for _, as := range results {
		for _, a := range as {
			if !seen[a.ID] {
				seen[a.ID] = true
				out = append(out, a)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if req.Limit > 0 && len(out) > req.Limit {
		out = out[:req.Limit]
	}
	return sdk.KBSearchResult{Articles: out}, nil
}

// CheckEligibility asks the first insurance adapter in service.
func (r *Registry) CheckEligibility(ctx context.Context, req sdk.EligibilityRequest) (sdk.EligibilityResponse, error) {
	r.awaitLoaded(ctx, servesInsurance)
	ins := r.routes.Load().insurance
	if len(ins) == 0 {
		return sdk.EligibilityResponse{}, fmt.Errorf("insurance eligibility: %w", r.unavailable(servesInsurance))
	}
	var res sdk.EligibilityResponse
	err := r.call(ctx, ins[0], sdk.HookEligibility, req, &res, nil)
	return res, err
}
