package chat

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient"
)

// hostKey is the entity key of the host context given to intent plugins
// (plugins/internal/nlu.HostKey; the JSON shape is nlu.HostContext).
const hostKey = "host"

// hostContext is what an intent plugin's Handle gets besides the message:
// today in the practice's time zone, the vocabularies for entity
// matching (provider names and cities, not PHI), the page's form and last
// error (field names and messages only), and aggregate figures for
// insights.
type hostContext struct {
	Today     string          `json:"today"`
	Providers []term          `json:"providers,omitempty"`
	Cities    []string        `json:"cities,omitempty"`
	Stats     json.RawMessage `json:"stats,omitempty"`
	Page      string          `json:"page,omitempty"`
	Form      map[string]any  `json:"form,omitempty"`
	LastError map[string]any  `json:"last_error,omitempty"`
	Selection int             `json:"selection,omitempty"` // how many patients are selected
	Role      string          `json:"role,omitempty"`
	TourStep  int             `json:"tour_step,omitempty"`
	TourDone  bool            `json:"tour_done,omitempty"`
}

type term struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Service) hostContext(ctx context.Context, req Request, intent string) (hostContext, error) {
	a := actor.From(ctx)
	h := hostContext{
		Today: s.now().Format(time.DateOnly), Page: req.Context.Page, Form: req.Context.Form,
		LastError: req.Context.LastError, Selection: len(req.Context.Selection), Role: string(a.Role),
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
		b, _ := json.Marshal(st)
		h.Stats = b
	}
	return h, nil
}

func readsPatients(r actor.Role) bool {
	return r == actor.RoleAdmin || r == actor.RoleStaff || r == actor.RoleSystem
}

// vocabulary is a snapshot of the directory's entity vocabularies and of
// the identifiers the history scrubber removes.
type vocabulary struct {
	at        time.Time
	providers []term
	cities    []string
	names     map[string]bool // folded name words of every patient
	mrns      map[string]bool // folded MRNs
	byLen     map[int][]string
}

// vocabCache refreshes the snapshot in the background once it is older
// than VocabularyTTL; the first call builds it synchronously.
type vocabCache struct {
	s          *Service
	mu         sync.Mutex
	cur        *vocabulary
	refreshing bool
}

func newVocabCache(s *Service) *vocabCache { return &vocabCache{s: s} }

func (c *vocabCache) get(ctx context.Context) (*vocabulary, error) {
	c.mu.Lock()
	cur := c.cur
	stale := cur == nil || c.s.d.Now().Sub(cur.at) > c.s.o.VocabularyTTL
	start := stale && cur != nil && !c.refreshing
	if start {
		c.refreshing = true
	}
	c.mu.Unlock()
	if cur == nil {
		v, err := c.build(ctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.cur = v
		c.mu.Unlock()
		return v, nil
	}
	if start {
		go func() {
			v, err := c.build(context.WithoutCancel(ctx))
			c.mu.Lock()
			defer c.mu.Unlock()
			c.refreshing = false
			if err == nil {
				c.cur = v
			}
		}()
	}
	return cur, nil
}

// invalidate drops the snapshot (after a change the chat made itself).
func (c *vocabCache) invalidate() {
	c.mu.Lock()
	c.cur = nil
	c.mu.Unlock()
}

// build pages through the directory as the system (audited as such).
func (c *vocabCache) build(ctx context.Context) (*vocabulary, error) {
	sys := actor.With(ctx, actor.Actor{UserID: "system:chat", Role: actor.RoleSystem, RequestID: actor.From(ctx).RequestID})
	v := &vocabulary{at: c.s.d.Now(), names: map[string]bool{}, mrns: map[string]bool{}, byLen: map[int][]string{}}
	provs, err := c.s.d.Patients.ListProviders(sys)
	if err != nil {
		return nil, err
	}
	for _, p := range provs {
		v.providers = append(v.providers, term{ID: p.ID, Name: p.Name})
	}
	cities := map[string]string{}
	f := patient.Filter{Limit: patient.MaxLimit, Sort: "mrn"}
	for {
		page, err := c.s.d.Patients.List(sys, f)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Items {
			if city := strings.TrimSpace(p.Address.City); city != "" {
				cities[fold(city)] = city
			}
			for _, n := range append([]string{p.FirstName, p.LastName, p.PreferredName}, p.MiddleNames...) {
				for _, w := range wordsOf(n) {
					if len(w) >= 2 {
						v.names[w] = true
					}
				}
			}
			v.mrns[fold(p.MRN)] = true
		}
		if page.NextCursor == "" || len(page.Items) == 0 {
			break
		}
		f.Cursor = page.NextCursor
	}
	for _, c := range cities {
		v.cities = append(v.cities, c)
	}
	sort.Strings(v.cities)
	for w := range v.names {
		v.byLen[len(w)] = append(v.byLen[len(w)], w)
	}
	return v, nil
}
