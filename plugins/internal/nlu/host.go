package nlu

import (
	"encoding/json"
	"time"
)

// HostKey is the entity key under which the core's chat service passes
// host context to an intent plugin's Handle (see HostContext).
const HostKey = "host"

// HostContext is what the core tells an intent plugin besides the
// message, in IntentRequest.Entities["host"]: the practice's current day
// (WASM guests run on a fake clock), the vocabularies entity matching
// uses (provider names and cities are not PHI), and aggregate figures
// for insights. The JSON shape is a contract with core/chat.
type HostContext struct {
	Today     string          `json:"today"` // YYYY-MM-DD in the practice's time zone
	Providers []Term          `json:"providers,omitempty"`
	Cities    []string        `json:"cities,omitempty"`
	Stats     json.RawMessage `json:"stats,omitempty"`
	Page      string          `json:"page,omitempty"`
	// Form and LastError are what the page showed: field names and
	// messages, the problem+json of the last error; never values.
	Form      map[string]any `json:"form,omitempty"`
	LastError map[string]any `json:"last_error,omitempty"`
	Selection int            `json:"selection,omitempty"` // how many patients are selected
	Role      string         `json:"role,omitempty"`      // admin | staff | auditor
	// TourStep and TourDone are the user's welcome-tour progress.
	TourStep int  `json:"tour_step,omitempty"`
	TourDone bool `json:"tour_done,omitempty"`
	// Previous is the patient-list query of the last data answer in the
	// same conversation, for follow-ups ("only the active ones").
	Previous string `json:"previous,omitempty"`
}

// HostFrom reads the host context from a plugin's entities; a missing or
// malformed one yields the zero value.
func HostFrom(entities map[string]any) HostContext {
	var h HostContext
	raw, ok := entities[HostKey]
	if !ok {
		return h
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return h
	}
	_ = json.Unmarshal(b, &h)
	return h
}

// Day returns the host's today, or now's day when the host gave none.
func (h HostContext) Day(now func() time.Time) time.Time {
	if t, err := time.Parse(time.DateOnly, h.Today); err == nil {
		return t
	}
	return Day(now())
}

// Vocabularies builds the matching vocabularies.
func (h HostContext) Vocabularies() Vocabularies {
	cities := make([]Term, len(h.Cities))
	for i, c := range h.Cities {
		cities[i] = Term{ID: c, Name: c}
	}
	return Vocabularies{Providers: NewVocabulary(h.Providers), Cities: NewVocabulary(cities)}
}
