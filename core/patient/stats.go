package patient

import (
	"time"
)

// Stats are the dashboard's and the chat assistant's figures, computed
// from the directory (never from a database count).
type Stats struct {
	Total    int            `json:"total"`
	ByStatus map[Status]int `json:"by_status"`
	// NewPerWeek counts patients created per week (Monday first), oldest
	// first, the current week last.
	NewPerWeek []Bucket `json:"new_per_week"`
	// NewPerMonth counts patients created per calendar month, oldest first.
	NewPerMonth []Bucket `json:"new_per_month"`
	// TransitionsPerWeek counts status changes per week and "from->to".
	TransitionsPerWeek []TransitionBucket `json:"transitions_per_week"`
	// UpcomingBirthdays counts birthdays in the next BirthdayDays days
	// (today included).
	UpcomingBirthdays int `json:"upcoming_birthdays"`
	BirthdayDays      int `json:"birthday_days"`
	// StuckOnboarding counts patients in onboarding for more than
	// StuckDays days (by status_changed_at).
	StuckOnboarding int `json:"stuck_onboarding"`
	StuckDays       int `json:"stuck_days"`
	// Missing counts patients lacking phone, email, insurance, provider
	// or address.
	Missing map[string]int `json:"missing"`
	// AsOf is when the figures were computed.
	AsOf time.Time `json:"as_of"`
}

// Bucket is a count for a period starting on Start (YYYY-MM-DD).
type Bucket struct {
	Start string `json:"start"`
	Count int    `json:"count"`
}

// TransitionBucket counts status changes in the week starting on Start,
// by "from->to".
type TransitionBucket struct {
	Start  string         `json:"start"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
}

// StatsOptions shape Stats; zero values take the defaults.
type StatsOptions struct {
	Weeks        int // weeks of NewPerWeek and TransitionsPerWeek (default 12, max 52)
	Months       int // months of NewPerMonth (default 12, max 24)
	BirthdayDays int // window of UpcomingBirthdays (default 30)
	StuckDays    int // onboarding longer than this is stuck (default 14)
	// Panel scopes the figures like Filter.Panel (scope.go).
	Panel string
}

func (o *StatsOptions) defaults() {
	if o.Weeks <= 0 || o.Weeks > 52 {
		o.Weeks = 12
	}
	if o.Months <= 0 || o.Months > 24 {
		o.Months = 12
	}
	if o.BirthdayDays <= 0 || o.BirthdayDays > 366 {
		o.BirthdayDays = 30
	}
	if o.StuckDays <= 0 {
		o.StuckDays = 14
	}
}

// stats computes the figures; now is in the practice's location.
func (st *state) stats(now time.Time, o StatsOptions, sc scope) Stats {
	o.defaults()
	today := dayOf(now)
	loc := now.Location()
	s := Stats{
		ByStatus: map[Status]int{}, Missing: map[string]int{}, BirthdayDays: o.BirthdayDays, StuckDays: o.StuckDays,
		AsOf: now.UTC(),
	}
	for _, st := range Statuses() {
		s.ByStatus[st] = 0
	}
	for _, m := range missingKinds {
		s.Missing[m] = 0
	}
	// Week buckets start on Mondays.
	weekday := (int(today.Weekday()) + 6) % 7
	firstWeek := today.AddDate(0, 0, -weekday-7*(o.Weeks-1))
	s.NewPerWeek = make([]Bucket, o.Weeks)
	s.TransitionsPerWeek = make([]TransitionBucket, o.Weeks)
	for i := range o.Weeks {
		start := firstWeek.AddDate(0, 0, 7*i).Format(time.DateOnly)
		s.NewPerWeek[i] = Bucket{Start: start}
		s.TransitionsPerWeek[i] = TransitionBucket{Start: start, Counts: map[string]int{}}
	}
	firstMonth := time.Date(today.Year(), today.Month()-time.Month(o.Months-1), 1, 0, 0, 0, 0, time.UTC)
	s.NewPerMonth = make([]Bucket, o.Months)
	for i := range o.Months {
		s.NewPerMonth[i] = Bucket{Start: firstMonth.AddDate(0, i, 0).Format(time.DateOnly)}
	}
	weekOf := func(t time.Time) int {
		d := dayOf(t.In(loc))
		if d.Before(firstWeek) || d.After(today) {
			return -1
		}
		return int(d.Sub(firstWeek).Hours()/24) / 7
	}
	stuckBefore := now.AddDate(0, 0, -o.StuckDays)
	missing := make([]func(*entry) bool, len(missingKinds))
	for i, m := range missingKinds {
		missing[i] = missingPred(m)
	}
	for _, e := range st.byID {
		p := e.p
		if !sc.admits(p) {
			continue
		}
		s.Total++
		s.ByStatus[p.Status]++
		if w := weekOf(p.CreatedAt); w >= 0 {
			s.NewPerWeek[w].Count++
		}
		c := p.CreatedAt.In(loc)
		if m := (c.Year()-firstMonth.Year())*12 + int(c.Month()) - int(firstMonth.Month()); m >= 0 && m < o.Months && !dayOf(c).After(today) {
			s.NewPerMonth[m].Count++
		}
		if e.dobM != 0 && daysUntilBirthday(e.dobM, e.dobD, today) < o.BirthdayDays {
			s.UpcomingBirthdays++
		}
		if p.Status == StatusOnboarding && p.StatusChangedAt.Before(stuckBefore) {
			s.StuckOnboarding++
		}
		for i, m := range missingKinds {
			if missing[i](e) {
				s.Missing[m]++
			}
		}
	}
	for _, t := range st.transitions {
		if e := st.byID[t.PatientID]; sc.restricted && (e == nil || !sc.admits(e.p)) {
			continue // a panel counts the moves of its current patients
		}
		if w := weekOf(t.At); w >= 0 {
			b := &s.TransitionsPerWeek[w]
			b.Counts[string(t.From)+"->"+string(t.To)]++
			b.Total++
		}
	}
	return s
}
