package nlu

import (
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
