package chat

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/sdk"
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
	Form      *sdk.ChatForm   `json:"form,omitempty"`
	LastError *sdk.ChatError  `json:"last_error,omitempty"`
	Selection int             `json:"selection,omitempty"` // how many patients are selected
	Role      string          `json:"role,omitempty"`
	TourStep  int             `json:"tour_step,omitempty"`
	TourDone  bool            `json:"tour_done,omitempty"`
	// Previous is the filter of the last data answer in this session
	// (the patient list's query string, search text included), for
	// follow-ups such as "only the active ones".
	Previous string `json:"previous,omitempty"`
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
		b, _ := json.Marshal(st)
		h.Stats = b
	}
	return h, nil
}

func readsPatients(r actor.Role) bool {
	return r == actor.RoleAdmin || r == actor.RoleStaff || r == actor.RoleSystem
}

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
	providers []term
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
		nv.providers = append(nv.providers, term{ID: p.ID, Name: p.Name})
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
