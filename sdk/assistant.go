package sdk

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The assistant contract: what the core's chat service tells an intent
// plugin besides the message (HostContext), the practice figures it
// passes for insights (PatientStats), and how an intent answers a data
// question (a patient-list query in IntentReply.Data, see
// PatientListReply). Defined once, here, and used by the core and by the
// plugins; docs/plugins.md ("Answering a data question") walks through it.

// HostContextKey is the IntentRequest.Entities key under which the core
// passes the HostContext to an intent plugin's Handle.
const HostContextKey = "host"

// HostContext is what the core tells an intent plugin's Handle besides
// the message: the practice's current day (WASM guests run on a fake
// clock), the vocabularies entity matching uses (provider names and
// cities are not PHI), the page the user is on, and aggregate figures
// for insights. It never carries patient names, MRNs or contact data.
type HostContext struct {
	Today     string   `json:"today"` // YYYY-MM-DD in the practice's time zone
	Providers []Term   `json:"providers,omitempty"`
	Cities    []string `json:"cities,omitempty"`
	// Stats is set for intents named "insights.*" or "suggest*" only.
	Stats *PatientStats `json:"stats,omitempty"`
	Page  string        `json:"page,omitempty"`
	// Form and LastError are what the page showed: field names and
	// messages, the problem+json of the last error; never values.
	Form      *ChatForm  `json:"form,omitempty"`
	LastError *ChatError `json:"last_error,omitempty"`
	Selection int        `json:"selection,omitempty"` // how many patients are selected
	Role      string     `json:"role,omitempty"`      // admin | staff | auditor
	// TourStep and TourDone are the user's welcome-tour progress (set for
	// intents named "tour.*").
	TourStep int  `json:"tour_step,omitempty"`
	TourDone bool `json:"tour_done,omitempty"`
	// Previous is the patient-list query of the last data answer in the
	// same conversation (search text replaced), for follow-ups such as
	// "only the active ones".
	Previous string `json:"previous,omitempty"`
}

// Term is one entry of a vocabulary: a provider's record id and name, or
// a city (ID and Name both the city).
type Term struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// HostContextFrom reads the host context from an intent request's
// entities; a missing or malformed one yields the zero value (see
// ParseHostContext to tell the two apart).
func HostContextFrom(entities map[string]any) HostContext {
	h, err := ParseHostContext(entities)
	if err != nil {
		return HostContext{}
	}
	return h
}

// ParseHostContext reads the host context from an intent request's
// entities: the zero value when there is none, a CodeInvalidInput error
// when it does not have HostContext's shape.
func ParseHostContext(entities map[string]any) (HostContext, error) {
	var h HostContext
	raw, ok := entities[HostContextKey]
	if !ok {
		return h, nil
	}
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, &h)
	}
	if err != nil {
		return HostContext{}, Errorf(CodeInvalidInput, "decode the host context: %v", err)
	}
	return h, nil
}

// Day returns the host's today (midnight UTC of that date), or ok=false
// when the host gave none.
func (h HostContext) Day() (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, h.Today)
	return t, err == nil
}

// PatientStats are the practice's aggregate figures (no PHI): the same
// numbers as GET /api/v1/patients/stats.
type PatientStats struct {
	Total    int            `json:"total"`
	ByStatus map[string]int `json:"by_status"`
	// NewPerWeek counts patients created per week (Monday first), oldest
	// first, the current week last; NewPerMonth per calendar month.
	NewPerWeek  []CountBucket `json:"new_per_week"`
	NewPerMonth []CountBucket `json:"new_per_month"`
	// TransitionsPerWeek counts status changes per week by "from->to".
	TransitionsPerWeek []TransitionBucket `json:"transitions_per_week"`
	// UpcomingBirthdays counts birthdays in the next BirthdayDays days.
	UpcomingBirthdays int `json:"upcoming_birthdays"`
	BirthdayDays      int `json:"birthday_days"`
	// StuckOnboarding counts patients in onboarding for more than
	// StuckDays days.
	StuckOnboarding int `json:"stuck_onboarding"`
	StuckDays       int `json:"stuck_days"`
	// Missing counts patients lacking each of the Missing* values.
	Missing map[string]int `json:"missing"`
}

// CountBucket is a count for a period starting on Start (YYYY-MM-DD).
type CountBucket struct {
	Start string `json:"start"`
	Count int    `json:"count"`
}

// TransitionBucket counts the status changes of a week by "from->to".
type TransitionBucket struct {
	Start  string         `json:"start"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
}

// Keys of IntentReply.Data for a data answer. The plugin sets DataQuery
// (and may set DataView); the core runs the query as the user and sets
// the others before the reply reaches the panel.
const (
	DataQuery    = "query"    // the patient-list query: URL query parameters (Filter* keys)
	DataView     = "view"     // how the panel shows it: "count" or "list"
	DataPatients = "patients" // set by the core: [{ref, id, mrn}], at most the host's cap
	DataTotal    = "total"    // set by the core: how many patients match (or are shown, with a limit)
	DataMatches  = "matches"  // set by the core with a limit: how many match in all
	DataHasMore  = "has_more" // set by the core: more match than are listed
)

// Placeholders in IntentReply.Reply that the core fills in after running
// DataQuery: the plugin never sees the patients or their count.
const (
	PlaceholderTotal    = "{total}"    // the count, e.g. "12"
	PlaceholderPatients = "{patients}" // "patient" or "patients" by the count
)

// Filter keys of a patient-list query (the patient list API's query
// parameters). Values are strings; lists are comma-separated.
const (
	FilterText               = "q"                    // free text: name or MRN, typo-tolerant
	FilterStatus             = "status"               // onboarding, active, inactive, churned
	FilterProvider           = "provider_id"          // a provider's record id (from HostContext.Providers)
	FilterCity               = "city"                 // a city (from HostContext.Cities)
	FilterTag                = "tag"                  // a patient tag
	FilterAgeMin             = "age_min"              // whole years
	FilterAgeMax             = "age_max"              // whole years
	FilterBirthdayWithinDays = "birthday_within_days" // birthdays in the next N days, today included
	FilterCreatedFrom        = "created_from"         // YYYY-MM-DD or RFC 3339
	FilterCreatedTo          = "created_to"
	FilterUpdatedFrom        = "updated_from"
	FilterUpdatedTo          = "updated_to"
	FilterStatusChangedFrom  = "status_changed_from"
	FilterStatusChangedTo    = "status_changed_to"
	FilterMissing            = "missing" // Missing* values
	FilterSort               = "sort"    // e.g. last_name, -created_at, updated_at
	FilterLimit              = "limit"   // answer only the first N ("top 5")
)

// PatientFilterKeys returns every filter key a plugin's query may use.
func PatientFilterKeys() []string {
	return []string{
		FilterText, FilterStatus, FilterProvider, FilterCity, FilterTag, FilterAgeMin, FilterAgeMax,
		FilterBirthdayWithinDays, FilterCreatedFrom, FilterCreatedTo, FilterUpdatedFrom, FilterUpdatedTo,
		FilterStatusChangedFrom, FilterStatusChangedTo, FilterMissing, FilterSort, FilterLimit,
	}
}

// Values of FilterMissing: what a patient may lack.
const (
	MissingPhone     = "phone"
	MissingEmail     = "email"
	MissingInsurance = "insurance"
	MissingProvider  = "provider"
	MissingAddress   = "address"
)

// MissingValues returns every value of FilterMissing.
func MissingValues() []string {
	return []string{MissingPhone, MissingEmail, MissingInsurance, MissingProvider, MissingAddress}
}

// PatientListReply is a data answer: the reply text (with the
// placeholders) and the patient-list query the core runs as the user.
// "How many patients have no email?" is
//
//	sdk.PatientListReply("patients.count", "{total} {patients} have no e-mail address.",
//		url.Values{sdk.FilterMissing: {sdk.MissingEmail}})
func PatientListReply(intent, text string, query url.Values) IntentReply {
	return IntentReply{Intent: intent, Reply: text, Data: map[string]any{DataQuery: query.Encode()}}
}

// PatientListQueryOf returns the patient-list query a reply carries, and
// ok=false when it carries none. A malformed query is an error.
func PatientListQueryOf(r IntentReply) (url.Values, bool, error) {
	q, ok := r.Data[DataQuery].(string)
	if !ok {
		return nil, false, nil
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return nil, true, Errorf(CodeInvalidInput, "malformed %s in the reply: %v", DataQuery, err)
	}
	return v, true, nil
}

// FillCount replaces the placeholders in text with total and the noun
// that agrees with it.
func FillCount(text string, total int) string {
	noun := "patients"
	if total == 1 {
		noun = "patient"
	}
	text = strings.ReplaceAll(text, PlaceholderTotal, strconv.Itoa(total))
	return strings.ReplaceAll(text, PlaceholderPatients, noun)
}
