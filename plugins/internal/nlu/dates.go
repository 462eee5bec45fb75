package nlu

import (
	"strconv"
	"strings"
	"time"
)

// Direction says which way an open-ended date expression points.
type Direction int

// Directions of a DateExpr.
const (
	Past    Direction = iota // "last 2 weeks", "since March", "in 2025"
	Future                   // "next 30 days", "upcoming", "tomorrow"
	Unknown                  // "within 30 days": the caller decides
)

// DateExpr is a date range found in a message. From and To are calendar
// days (midnight UTC, inclusive); a zero bound is open. Days, when set,
// is the length of a window that starts today ("next 30 days" -> 30),
// which is what birthday questions need. Start and End are the word
// span it came from.
type DateExpr struct {
	From, To   time.Time
	Days       int
	Dir        Direction
	Start, End int
	// Upcoming is set when the message only said "upcoming" / "soon"
	// without a window; Days is then the default of 30.
	Upcoming bool
}

// DefaultUpcomingDays is the window of "upcoming" when none is said.
const DefaultUpcomingDays = 30

// Day returns t's calendar day as midnight UTC.
func Day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

var monthNames = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
	"may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
	"sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

// unitAt reads a calendar unit at word i: day, week, fortnight, month,
// quarter, year (singular or plural).
func unitAt(ws []string, i int) (string, bool) {
	if i >= len(ws) {
		return "", false
	}
	w := strings.TrimSuffix(ws[i], "s")
	switch w {
	case "day", "week", "month", "quarter", "year", "fortnight":
		return w, true
	}
	return "", false
}

// addUnits moves d by n units (n may be negative).
func addUnits(d time.Time, unit string, n int) time.Time {
	switch unit {
	case "day":
		return d.AddDate(0, 0, n)
	case "week":
		return d.AddDate(0, 0, 7*n)
	case "fortnight":
		return d.AddDate(0, 0, 14*n)
	case "month":
		return d.AddDate(0, n, 0)
	case "quarter":
		return d.AddDate(0, 3*n, 0)
	default:
		return d.AddDate(n, 0, 0)
	}
}

// period returns the calendar period of unit containing d, shifted by
// k periods (k=-1: the previous one).
func period(d time.Time, unit string, k int) (time.Time, time.Time) {
	switch unit {
	case "day":
		x := d.AddDate(0, 0, k)
		return x, x
	case "week", "fortnight":
		mon := d.AddDate(0, 0, -((int(d.Weekday())+6)%7)+7*k)
		return mon, mon.AddDate(0, 0, 6)
	case "month":
		first := time.Date(d.Year(), d.Month()+time.Month(k), 1, 0, 0, 0, 0, time.UTC)
		return first, first.AddDate(0, 1, -1)
	case "quarter":
		q := (int(d.Month()) - 1) / 3
		first := time.Date(d.Year(), time.Month(q*3+1+3*k), 1, 0, 0, 0, 0, time.UTC)
		return first, first.AddDate(0, 3, -1)
	default:
		first := time.Date(d.Year()+k, 1, 1, 0, 0, 0, 0, time.UTC)
		return first, first.AddDate(1, 0, -1)
	}
}

func yearAt(ws []string, i int) (int, bool) {
	if i >= len(ws) || len(ws[i]) != 4 {
		return 0, false
	}
	y, err := strconv.Atoi(ws[i])
	if err != nil || y < 1900 || y > 2100 {
		return 0, false
	}
	return y, true
}

// isoDate parses 2025-03-01, 2025/03/01, 3/14/2025 and 3/14 (the current
// year).
func isoDate(w string, today time.Time) (time.Time, bool) {
	if len(w) < 3 || w[0] < '0' || w[0] > '9' || !strings.ContainsAny(w, "-/.") {
		return time.Time{}, false
	}
	for _, layout := range []string{"2006-01-02", "2006/01/02", "2006-1-2", "1/2/2006", "01/02/2006", "1-2-2006", "1.2.2006"} {
		if t, err := time.Parse(layout, w); err == nil {
			return t, true
		}
	}
	if t, err := time.Parse("1/2", w); err == nil {
		return time.Date(today.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
	}
	return time.Time{}, false
}

// pointAt reads an absolute or named period at word i: an ISO date, a
// month with or without a year, a year, today / yesterday / tomorrow,
// "this|last|next <unit>", "<n> <units> ago". It returns the period and
// the number of words used (0 when none).
func pointAt(ws []string, i int, today time.Time) (from, to time.Time, n int) {
	if i >= len(ws) {
		return from, to, 0
	}
	w := ws[i]
	if w == "the" {
		f, t, k := pointAt(ws, i+1, today)
		if k > 0 {
			return f, t, k + 1
		}
		return from, to, 0
	}
	if d, ok := isoDate(w, today); ok {
		return d, d, 1
	}
	switch w {
	case "today":
		return today, today, 1
	case "yesterday":
		d := today.AddDate(0, 0, -1)
		return d, d, 1
	case "tomorrow":
		d := today.AddDate(0, 0, 1)
		return d, d, 1
	case "this", "last", "previous", "next", "current":
		if u, ok := unitAt(ws, i+1); ok && !strings.HasSuffix(ws[i+1], "s") {
			k := map[string]int{"this": 0, "current": 0, "last": -1, "previous": -1, "next": 1}[w]
			f, t := period(today, u, k)
			return f, t, 2
		}
		if m, ok := monthNames[wsAt(ws, i+1)]; ok && w != "current" {
			y := today.Year()
			switch w {
			case "last", "previous":
				if m >= today.Month() {
					y--
				}
			case "next":
				if m <= today.Month() {
					y++
				}
			}
			f := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
			return f, f.AddDate(0, 1, -1), 2
		}
	}
	if m, ok := monthNames[w]; ok && !(w == "may" && !monthContext(ws, i)) {
		if d, err := strconv.Atoi(trimOrdinal(wsAt(ws, i+1))); err == nil && d >= 1 && d <= 31 {
			y, k := today.Year(), 2
			if yy, ok := yearAt(ws, i+2); ok {
				y, k = yy, 3
			}
			x := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
			return x, x, k
		}
		y, k := today.Year(), 1
		if yy, ok := yearAt(ws, i+1); ok {
			y, k = yy, 2
		} else if m > today.Month() {
			y-- // a bare month means the latest one that has begun
		}
		f := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return f, f.AddDate(0, 1, -1), k
	}
	if y, ok := yearAt(ws, i); ok {
		f := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		return f, f.AddDate(1, 0, -1), 1
	}
	if v, k := NumberAt(ws, i); k > 0 {
		if u, ok := unitAt(ws, i+k); ok && wsAt(ws, i+k+1) == "ago" {
			d := addUnits(today, u, -v)
			return d, d, k + 2
		}
	}
	return from, to, 0
}

// monthContext tells the month "may" from the verb: it is a month next to
// a date word (in/since/before/after/of/until, a day number or a year).
func monthContext(ws []string, i int) bool {
	switch wsAt(ws, i-1) {
	case "in", "since", "before", "after", "of", "until", "during", "from", "and", "to", "last", "next", "this":
		return true
	}
	if _, ok := yearAt(ws, i+1); ok {
		return true
	}
	_, err := strconv.Atoi(trimOrdinal(wsAt(ws, i+1)))
	return err == nil
}

func wsAt(ws []string, i int) string {
	if i < 0 || i >= len(ws) {
		return ""
	}
	return ws[i]
}

// FindDate returns the first date expression in m, relative to today
// (a calendar day; see Day), and marks its words in used (may be nil).
func FindDate(m Message, today time.Time, used []bool) (DateExpr, bool) {
	today = Day(today)
	ws := m.Norm
	for i := 0; i < len(ws); i++ {
		if e, ok := dateAt(ws, i, today); ok {
			if used != nil {
				for j := e.Start; j < e.End && j < len(used); j++ {
					used[j] = true
				}
			}
			return e, true
		}
	}
	return DateExpr{}, false
}

func dateAt(ws []string, i int, today time.Time) (DateExpr, bool) {
	w := ws[i]
	span := func(e DateExpr, n int) (DateExpr, bool) {
		e.Start, e.End = i, i+n
		if e.Days == 0 && e.Dir == Future && !e.From.IsZero() && !e.To.IsZero() && !e.From.After(today) {
			e.Days = int(e.To.Sub(today).Hours()/24) + 1
		}
		return e, true
	}
	skip := func(j int) int { // skip "the"
		if wsAt(ws, j) == "the" {
			return j + 1
		}
		return j
	}
	switch w {
	case "between", "from":
		f1, _, n1 := pointAt(ws, i+1, today)
		if n1 > 0 {
			sep := wsAt(ws, i+1+n1)
			if sep == "and" || sep == "to" || sep == "until" || sep == "till" || sep == "through" {
				_, t2, n2 := pointAt(ws, i+2+n1, today)
				if n2 > 0 {
					return span(DateExpr{From: f1, To: t2, Dir: Past}, 2+n1+n2)
				}
			}
			if w == "from" {
				return span(DateExpr{From: f1, To: today, Dir: Past}, 1+n1)
			}
		}
	case "since":
		if f, _, n := pointAt(ws, i+1, today); n > 0 {
			return span(DateExpr{From: f, To: today, Dir: Past}, 1+n)
		}
	case "before", "until", "till":
		if f, _, n := pointAt(ws, i+1, today); n > 0 {
			return span(DateExpr{To: f.AddDate(0, 0, -1), Dir: Past}, 1+n)
		}
	case "after":
		if _, t, n := pointAt(ws, i+1, today); n > 0 {
			return span(DateExpr{From: t.AddDate(0, 0, 1), Dir: Past}, 1+n)
		}
	case "last", "past", "previous", "recent":
		j := i + 1
		v, k := NumberAt(ws, j)
		if u, ok := unitAt(ws, j+k); ok && (k > 0 || w == "past" || strings.HasSuffix(ws[j], "s")) {
			if k == 0 {
				v = 1
				if u == "day" && strings.HasSuffix(ws[j], "s") {
					v = 7 // "the past days": a week
				}
			}
			return span(DateExpr{From: addUnits(today, u, -v), To: today, Dir: Past}, 1+k+1)
		}
	case "next", "coming", "following", "upcoming":
		j := i + 1
		v, k := NumberAt(ws, j)
		if u, ok := unitAt(ws, j+k); ok && (k > 0 || w != "next" || strings.HasSuffix(ws[j], "s")) {
			if k == 0 {
				v = 1
			}
			end := addUnits(today, u, v)
			return span(DateExpr{From: today, To: end, Days: int(end.Sub(today).Hours() / 24), Dir: Future}, 1+k+1)
		}
		if w == "upcoming" {
			return span(DateExpr{From: today, To: today.AddDate(0, 0, DefaultUpcomingDays-1), Days: DefaultUpcomingDays, Dir: Future, Upcoming: true}, 1)
		}
	case "soon":
		return span(DateExpr{From: today, To: today.AddDate(0, 0, DefaultUpcomingDays-1), Days: DefaultUpcomingDays, Dir: Future, Upcoming: true}, 1)
	case "in", "within", "during", "over", "for", "of":
		j := skip(i + 1)
		if wsAt(ws, j) == "last" || wsAt(ws, j) == "past" || wsAt(ws, j) == "next" || wsAt(ws, j) == "coming" || wsAt(ws, j) == "previous" {
			if e, ok := dateAt(ws, j, today); ok {
				e.Start = i
				return e, true
			}
		}
		if v, k := NumberAt(ws, j); k > 0 {
			if u, ok := unitAt(ws, j+k); ok && (w == "within" || w == "in") {
				end := addUnits(today, u, v)
				e := DateExpr{From: addUnits(today, u, -v), To: today, Days: int(end.Sub(today).Hours() / 24), Dir: Unknown}
				return span(e, j-i+k+1)
			}
		}
		if w == "in" || w == "during" || w == "of" {
			if f, t, n := pointAt(ws, j, today); n > 0 {
				return span(DateExpr{From: f, To: t, Dir: Past}, j-i+n)
			}
		}
	}
	// Bare named periods: "today", "this month", "last week", "march 2025".
	if f, t, n := pointAt(ws, i, today); n > 0 {
		if w == "the" {
			return DateExpr{}, false
		}
		dir := Past
		if w == "next" || w == "tomorrow" {
			dir = Future
		}
		return span(DateExpr{From: f, To: t, Dir: dir}, n)
	}
	return DateExpr{}, false
}
