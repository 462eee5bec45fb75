package nlu

import (
	"slices"
	"sync"
	"time"

	"github.com/pfinni/pfinni/sdk"
)

// Clock is an intent plugin's fallback clock, used when the host sends no
// "today"; nil is the real clock.
type Clock func() time.Time

// Now returns the clock's time.
func (c Clock) Now() time.Time {
	if c != nil {
		return c()
	}
	return time.Now()
}

// Today returns the host's today (sdk.HostContext.Today), or now's day
// when the host gave none.
func Today(h sdk.HostContext, now func() time.Time) time.Time {
	if t, ok := h.Day(); ok {
		return t
	}
	return Day(now())
}

// VocabulariesOf builds the matching vocabularies from the host's
// providers and cities.
func VocabulariesOf(h sdk.HostContext) Vocabularies {
	providers := make([]Term, len(h.Providers))
	for i, p := range h.Providers {
		providers[i] = Term{ID: p.ID, Name: p.Name}
	}
	cities := make([]Term, len(h.Cities))
	for i, c := range h.Cities {
		cities[i] = Term{ID: c, Name: c}
	}
	return Vocabularies{Providers: NewVocabulary(providers), Cities: NewVocabulary(cities)}
}

// VocabCache keeps the vocabularies of the last providers and cities it
// was given. A plugin's instance serves many calls with the same lists
// (they change only when the directory does), and building their word
// index was most of a data question's work in the plugin; now it is
// built once per change. The zero value is ready; a nil cache builds the
// vocabularies on every call. Safe for concurrent use (a Vocabulary is
// read-only once built).
type VocabCache struct {
	mu        sync.Mutex
	built     bool
	providers []sdk.Term
	cities    []string
	v         Vocabularies
}

// Of returns the vocabularies of h's providers and cities, as
// VocabulariesOf would.
func (c *VocabCache) Of(h sdk.HostContext) Vocabularies {
	if c == nil {
		return VocabulariesOf(h)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.built && slices.Equal(c.providers, h.Providers) && slices.Equal(c.cities, h.Cities) {
		return c.v
	}
	c.v, c.providers, c.cities, c.built = VocabulariesOf(h), h.Providers, h.Cities, true
	return c.v
}
