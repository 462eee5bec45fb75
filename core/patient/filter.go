package patient

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/fault"
)

// Filter selects, orders and pages patients. The zero Filter lists
// everybody by last name, 50 per page. Time bounds are inclusive; zero
// means open.
type Filter struct {
	// Q is free text over names (typo-tolerant), MRN, phone digits and email.
	Q          string
	Statuses   []Status
	ProviderID string
	// BirthdayWithinDays keeps patients whose next birthday falls in the
	// next N days including today (1 = today only); 0 is off.
	BirthdayWithinDays int
	CreatedFrom        time.Time
	CreatedTo          time.Time
	UpdatedFrom        time.Time
	UpdatedTo          time.Time
	StatusChangedFrom  time.Time
	StatusChangedTo    time.Time
	// Missing keeps patients lacking all of these: phone, email,
	// insurance, provider, address.
	Missing []string
	Tag     string
	City    string
	AgeMin  *int
	AgeMax  *int
	// Sort is a field name, "-" prefixed for descending: last_name
	// (default), first_name, created_at, updated_at, date_of_birth,
	// birthday (next upcoming first), status, mrn, relevance (default
	// when Q is set).
	Sort string
	// Limit is the page size: default 50, at most 200.
	Limit int
	// Cursor continues a previous page (Page.NextCursor).
	Cursor string
	// Panel scopes the list to a provider's panel: PanelDefault,
	// PanelMine or PanelAll (scope.go). What it means depends on the
	// caller; the service decides, never the caller.
	Panel string

	scope scope // set by Service.List from the actor and Panel
}

// Page is one page of a list.
type Page struct {
	Items      []*Patient `json:"items"`
	Total      int        `json:"total"` // all matches, not just this page
	NextCursor string     `json:"next_cursor"`

	enc [][]byte // Items as the directory encoded them (see AppendJSON)
}

// WriteJSON writes the page as JSON — what encoding/json makes of it —
// taking each item's bytes from the directory, which encodes a record
// once per version. It is for answering a list as it was returned: an
// item the caller changed is not re-encoded.
func (p Page) WriteJSON(w io.Writer) error {
	sw := stickyWriter{w: w}
	sw.write([]byte(`{"items":[`))
	for i, it := range p.Items {
		if i > 0 {
			sw.write([]byte{','})
		}
		var b []byte
		if i < len(p.enc) {
			b = p.enc[i]
		}
		if b == nil {
			var err error
			if b, err = json.Marshal(it); err != nil {
				return fmt.Errorf("write patient page: %w", err)
			}
		}
		sw.write(b)
	}
	sw.write(strconv.AppendInt([]byte(`],"total":`), int64(p.Total), 10))
	cur, _ := json.Marshal(p.NextCursor) // a string always encodes
	sw.write(append(append([]byte(`,"next_cursor":`), cur...), '}'))
	if sw.err != nil {
		return fmt.Errorf("write patient page: %w", sw.err)
	}
	return nil
}

// stickyWriter keeps the first error of a series of writes.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) write(b []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
}

// Page size limits.
const (
	DefaultLimit = 50
	MaxLimit     = 200
	maxQuery     = 200
	maxWords     = 8
)

// missingKinds are the values Filter.Missing accepts.
var missingKinds = []string{"phone", "email", "insurance", "provider", "address"}

// filterParams are the query parameters ParseFilter knows.
var filterParams = []string{
	"q", "status", "provider_id", "birthday_within_days", "created_from", "created_to", "updated_from", "updated_to",
	"status_changed_from", "status_changed_to", "missing", "tag", "city", "age_min", "age_max", "sort", "limit", "cursor", "panel",
}

// ParseFilter reads a Filter from URL query parameters (the API's list
// parameters). Unknown parameters and bad values are refused naming the
// parameter. Dates may be YYYY-MM-DD (a whole day, in loc) or RFC 3339.
func ParseFilter(v url.Values, loc *time.Location) (Filter, error) {
	var f Filter
	var errs fault.Fields
	for k := range v {
		if !slices.Contains(filterParams, k) {
			errs.Add(k, "unknown parameter; known: "+strings.Join(filterParams, ", "))
		}
	}
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	list := func(k string) []string {
		var out []string
		for _, s := range v[k] {
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	f.Q = get("q")
	for _, s := range list("status") {
		f.Statuses = append(f.Statuses, Status(s))
	}
	f.ProviderID = get("provider_id")
	intParam := func(k string, lo, hi int) *int {
		s := get(k)
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			errs.Add(k, fmt.Sprintf("must be a whole number from %d to %d", lo, hi))
			return nil
		}
		return &n
	}
	if n := intParam("birthday_within_days", 1, 366); n != nil {
		f.BirthdayWithinDays = *n
	}
	f.AgeMin = intParam("age_min", 0, 150)
	f.AgeMax = intParam("age_max", 0, 150)
	if n := intParam("limit", 1, MaxLimit); n != nil {
		f.Limit = *n
	}
	timeParam := func(k string, end bool) time.Time {
		s := get(k)
		if s == "" {
			return time.Time{}
		}
		t, err := parseBound(s, end, loc)
		if err != nil {
			errs.Add(k, "must be a date YYYY-MM-DD or an RFC 3339 time")
		}
		return t
	}
	f.CreatedFrom, f.CreatedTo = timeParam("created_from", false), timeParam("created_to", true)
	f.UpdatedFrom, f.UpdatedTo = timeParam("updated_from", false), timeParam("updated_to", true)
	f.StatusChangedFrom, f.StatusChangedTo = timeParam("status_changed_from", false), timeParam("status_changed_to", true)
	f.Missing = list("missing")
	f.Tag = get("tag")
	f.City = get("city")
	f.Sort = get("sort")
	f.Cursor = get("cursor")
	f.Panel = get("panel")
	errs = append(errs, f.problems()...)
	if len(errs) > 0 {
		errs.Err() // sorts
		parts := make([]string, len(errs))
		for i, e := range errs {
			parts[i] = e.Field + ": " + e.Message
		}
		// A bad query parameter is a 400 naming the parameter (field
		// errors, 422, are for request bodies).
		return Filter{}, fault.Newf(fault.ErrInvalid, "bad query parameter %s", strings.Join(parts, "; "))
	}
	return f, nil
}

// parseBound parses a date (the whole day: its start, or its last
// instant when end) or an RFC 3339 time.
func parseBound(s string, end bool, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		if end {
			return d.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
		}
		return d, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// problems lists what is wrong with the values of f.
func (f *Filter) problems() fault.Fields {
	var errs fault.Fields
	if len(f.Q) > maxQuery || len(strings.Fields(f.Q)) > maxWords {
		errs.Add("q", fmt.Sprintf("at most %d characters and %d words", maxQuery, maxWords))
	}
	for _, s := range f.Statuses {
		if !s.Valid() {
			errs.Add("status", "must be onboarding, active, inactive or churned (comma-separated for several)")
			break
		}
	}
	for _, m := range f.Missing {
		if !slices.Contains(missingKinds, m) {
			errs.Add("missing", "must be a comma-separated list of "+strings.Join(missingKinds, ", "))
			break
		}
	}
	if f.Sort != "" {
		if _, ok := sortNames[strings.TrimPrefix(f.Sort, "-")]; !ok {
			errs.Add("sort", "must be one of last_name, first_name, created_at, updated_at, date_of_birth, birthday, status, mrn, relevance, optionally prefixed with -")
		}
	}
	if f.Panel != PanelDefault && f.Panel != PanelMine && f.Panel != PanelAll {
		errs.Add("panel", fmt.Sprintf("must be %q or %q", PanelMine, PanelAll))
	}
	if f.Limit < 0 || f.Limit > MaxLimit {
		errs.Add("limit", fmt.Sprintf("must be from 1 to %d", MaxLimit))
	}
	if f.BirthdayWithinDays < 0 || f.BirthdayWithinDays > 366 {
		errs.Add("birthday_within_days", "must be from 1 to 366")
	}
	if f.AgeMin != nil && f.AgeMax != nil && *f.AgeMin > *f.AgeMax {
		errs.Add("age_min", "must not be greater than age_max")
	}
	return errs
}

// validate checks a Filter built in code (the chat assistant's): 400 naming the field.
func (f *Filter) validate() error {
	if errs := f.problems(); len(errs) > 0 {
		return fault.Newf(fault.ErrInvalid, "bad filter %s: %s", errs[0].Field, errs[0].Message)
	}
	return nil
}

// predicate builds the match function of the filter (everything but Q).
func (f *Filter) predicate(today time.Time) func(e *entry) bool {
	if m := f.matcher(today, false); m != nil {
		return m
	}
	return func(*entry) bool { return true }
}

// matcher is predicate, nil when the filter admits every entry (so a
// list can count a whole view without visiting it); skipStatus leaves
// the status out (the caller walks that status's own view).
func (f *Filter) matcher(today time.Time, skipStatus bool) func(e *entry) bool {
	var preds []func(e *entry) bool
	if sc := f.scope; sc.restricted {
		preds = append(preds, func(e *entry) bool { return sc.admits(e.p) })
	}
	if len(f.Statuses) > 0 && !skipStatus {
		sts := f.Statuses
		preds = append(preds, func(e *entry) bool { return slices.Contains(sts, e.p.Status) })
	}
	if f.ProviderID != "" {
		id := f.ProviderID
		preds = append(preds, func(e *entry) bool { return e.p.ProviderID == id })
	}
	if n := f.BirthdayWithinDays; n > 0 {
		preds = append(preds, func(e *entry) bool { return e.dobM != 0 && daysUntilBirthday(e.dobM, e.dobD, today) < n })
	}
	between := func(get func(*Patient) time.Time, from, to time.Time) {
		if from.IsZero() && to.IsZero() {
			return
		}
		preds = append(preds, func(e *entry) bool {
			t := get(e.p)
			return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
		})
	}
	between(func(p *Patient) time.Time { return p.CreatedAt }, f.CreatedFrom, f.CreatedTo)
	between(func(p *Patient) time.Time { return p.UpdatedAt }, f.UpdatedFrom, f.UpdatedTo)
	between(func(p *Patient) time.Time { return p.StatusChangedAt }, f.StatusChangedFrom, f.StatusChangedTo)
	for _, m := range f.Missing {
		preds = append(preds, missingPred(m))
	}
	if f.Tag != "" {
		tag := fold(f.Tag)
		preds = append(preds, func(e *entry) bool { return slices.Contains(e.tags, tag) })
	}
	if f.City != "" {
		city := fold(f.City)
		preds = append(preds, func(e *entry) bool { return e.city == city })
	}
	if f.AgeMin != nil || f.AgeMax != nil {
		lo, hi := 0, 1<<30
		if f.AgeMin != nil {
			lo = *f.AgeMin
		}
		if f.AgeMax != nil {
			hi = *f.AgeMax
		}
		preds = append(preds, func(e *entry) bool {
			if e.dobY == 0 {
				return false
			}
			a := ageOn(e.dobY, e.dobM, e.dobD, today)
			return a >= lo && a <= hi
		})
	}
	switch len(preds) {
	case 0:
		return nil
	case 1:
		return preds[0]
	}
	return func(e *entry) bool {
		for _, p := range preds {
			if !p(e) {
				return false
			}
		}
		return true
	}
}

func missingPred(kind string) func(e *entry) bool {
	switch kind {
	case "phone":
		return func(e *entry) bool { return e.p.Phone == "" }
	case "email":
		return func(e *entry) bool { return e.p.Email == "" }
	case "insurance":
		return func(e *entry) bool { return e.p.Insurance.empty() }
	case "provider":
		return func(e *entry) bool { return e.p.ProviderID == "" }
	default: // address
		return func(e *entry) bool { return e.p.Address.empty() }
	}
}

// dayOf returns the calendar day of t in its location, as a UTC midnight
// (so day arithmetic ignores daylight saving).
func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// birthdayIn returns the birthday in year y; a February 29 birthday is
// kept on February 28 in years without one.
func birthdayIn(y, m, d int) time.Time {
	if m == 2 && d == 29 && !isLeap(y) {
		d = 28
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysUntilBirthday counts days from today (a dayOf value) to the next
// birthday on month m, day d: 0 when it is today.
func daysUntilBirthday(m, d int, today time.Time) int {
	b := birthdayIn(today.Year(), m, d)
	if b.Before(today) {
		b = birthdayIn(today.Year()+1, m, d)
	}
	return int(b.Sub(today).Hours() / 24)
}

// ageOn returns the age in whole years on today.
func ageOn(y, m, d int, today time.Time) int {
	age := today.Year() - y
	if today.Before(birthdayIn(today.Year(), m, d)) {
		age--
	}
	return age
}
