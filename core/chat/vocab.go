package chat

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/sdk"
)

// hostContext is what an intent plugin's Handle gets besides the message
// (sdk.HostContext): today in the practice's time zone, the vocabularies
// for entity matching (provider names and cities, not PHI), the page's
// form and last error (field names and messages only), and aggregate
// figures for insights.
func (s *Service) hostContext(ctx context.Context, req Request, intent string) (sdk.HostContext, error) {
	a := actor.From(ctx)
	h := sdk.HostContext{
		Today: s.now().Format(time.DateOnly), Page: req.Context.Page, Form: req.Context.Form,
		LastError: req.Context.LastError, Selection: len(req.Context.Selection), Role: string(a.Role),
		Previous: req.previous,
	}
	if strings.HasPrefix(intent, "tour.") {
		if t, err := s.tour(ctx, a.UserID); err == nil {
			h.TourStep, h.TourDone = t.Step, t.Done
		}
	}
	if !readsPatients(a.Role) {
		return h, nil
	}
	v, err := s.vocab.get(ctx)
	if err != nil {
		return h, err
	}
	h.Providers, h.Cities = v.providers, v.cities
	if strings.HasPrefix(intent, "insights.") || strings.HasPrefix(intent, "suggest") {
		st, err := s.d.Patients.Stats(ctx)
		if err != nil {
			return h, err
		}
		h.Stats = statsForPlugins(st)
	}
	return h, nil
}

// statsForPlugins is the directory's figures in the SDK's shape
// (sdk.PatientStats), without the time they were computed.
func statsForPlugins(st patient.Stats) *sdk.PatientStats {
	out := &sdk.PatientStats{
		Total: st.Total, ByStatus: make(map[string]int, len(st.ByStatus)),
		UpcomingBirthdays: st.UpcomingBirthdays, BirthdayDays: st.BirthdayDays,
		StuckOnboarding: st.StuckOnboarding, StuckDays: st.StuckDays, Missing: st.Missing,
	}
	for k, n := range st.ByStatus {
		out.ByStatus[string(k)] = n
	}
	buckets := func(in []patient.Bucket) []sdk.CountBucket {
		bs := make([]sdk.CountBucket, len(in))
		for i, b := range in {
			bs[i] = sdk.CountBucket{Start: b.Start, Count: b.Count}
		}
		return bs
	}
	out.NewPerWeek, out.NewPerMonth = buckets(st.NewPerWeek), buckets(st.NewPerMonth)
	for _, t := range st.TransitionsPerWeek {
		out.TransitionsPerWeek = append(out.TransitionsPerWeek, sdk.TransitionBucket{Start: t.Start, Counts: t.Counts, Total: t.Total})
	}
	return out
}

// readsPatients: a provider too, within its panel (the patient service
// scopes every read the assistant makes).
func readsPatients(r actor.Role) bool { return r.ReadsPatients() }

// Directory is what the assistant needs of the patient directory besides
// records (core/patient.Service): the entity vocabularies, and whether a
// word is a patient's name or MRN (the history's fail-closed scrub).
type Directory interface {
	Vocabulary(ctx context.Context, known uint64) (patient.Vocabulary, bool, error)
	NameWords(ctx context.Context, words []string) ([]bool, error)
}

var _ Directory = (*patient.Service)(nil)

// vocabulary is the entity vocabularies for plugins, as of one
// generation of the directory.
type vocabulary struct {
	gen       uint64
	providers []sdk.Term
	cities    []string
}

// vocabCache keeps the vocabulary of the directory's current generation:
// each get asks the directory whether it changed (a lock and a compare)
// and rebuilds only then.
type vocabCache struct {
	dir Directory // nil: no vocabulary
	mu  sync.Mutex
	cur *vocabulary
}

func (c *vocabCache) get(ctx context.Context) (*vocabulary, error) {
	if c.dir == nil {
		return nil, errNoDirectory
	}
	c.mu.Lock()
	cur := c.cur
	c.mu.Unlock()
	known := uint64(0)
	if cur != nil {
		known = cur.gen
	}
	v, fresh, err := c.dir.Vocabulary(systemCtx(ctx), known)
	if err != nil {
		return nil, err
	}
	if !fresh && cur != nil {
		return cur, nil
	}
	nv := &vocabulary{gen: v.Generation, cities: v.Cities}
	for _, p := range v.Providers {
		nv.providers = append(nv.providers, sdk.Term{ID: p.ID, Name: p.Name})
	}
	c.mu.Lock()
	if c.cur == nil || c.cur.gen < nv.gen {
		c.cur = nv
	}
	c.mu.Unlock()
	return nv, nil
}

// systemCtx acts as the chat's own system identity (the vocabulary and
// the name check read no record and are not audited).
func systemCtx(ctx context.Context) context.Context {
	return actor.With(ctx, actor.Actor{UserID: "system:chat", Role: actor.RoleSystem, RequestID: actor.From(ctx).RequestID})
}
