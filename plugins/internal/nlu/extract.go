package nlu

import (
	"strconv"
	"strings"
	"time"

	"github.com/pfinni/pfinni/internal/textmatch"
	"github.com/pfinni/pfinni/sdk"
)

// Date fields a date expression may constrain.
const (
	FieldCreated       = "created"
	FieldUpdated       = "updated"
	FieldStatusChanged = "status_changed"
	FieldBirthday      = "birthday"
)

// Missing-data kinds (the values of sdk.FilterMissing), by the words that name them.
var missingKinds = map[string]string{
	"phone": sdk.MissingPhone, "telephone": sdk.MissingPhone, "number": sdk.MissingPhone, "cell": sdk.MissingPhone, "mobile": sdk.MissingPhone,
	"email": sdk.MissingEmail, "mail": sdk.MissingEmail,
	"insurance": sdk.MissingInsurance, "coverage": sdk.MissingInsurance, "insurer": sdk.MissingInsurance, "payer": sdk.MissingInsurance,
	"address": sdk.MissingAddress, "addresses": sdk.MissingAddress,
	"provider": sdk.MissingProvider, "doctor": sdk.MissingProvider, "physician": sdk.MissingProvider, "clinician": sdk.MissingProvider,
}

// Vocabularies are the host-provided lists entity matching uses.
type Vocabularies struct {
	Providers *Vocabulary
	Cities    *Vocabulary
}

// Query is what a patient-data question asks for.
type Query struct {
	Statuses []string
	// New is set when the message said "new" patients: with a date it
	// means created in that period, without one the onboarding status.
	New bool
	// Date and DateField: the period and what it constrains.
	Date      *DateExpr
	DateField string
	// BirthdayDays is the birthday window (today included); 0 is off.
	BirthdayDays int
	AgeMin       *int
	AgeMax       *int
	Missing      []string
	Sort         string // the patient list's sort names, "-" for descending
	Limit        int    // top-N; 0 is none
	// Name is the free text to search names or MRNs for.
	Name string
	// LoneName is set when the whole message is a name: one to three
	// words, none of them known, each shaped like a name ("KOWALSKI",
	// "mendoza").
	LoneName bool
	// Provider, City: matched vocabulary terms; ProviderPhrase and
	// CityPhrase: what was typed when no vocabulary matched it.
	Provider       *Match
	ProviderPhrase string
	City           *Match
	CityPhrase     string
	// Used marks the words that became entities.
	Used []bool
}

// Empty reports whether q constrains nothing.
func (q Query) Empty() bool {
	return len(q.Statuses) == 0 && !q.New && q.Date == nil && q.BirthdayDays == 0 && q.AgeMin == nil &&
		q.AgeMax == nil && len(q.Missing) == 0 && q.Name == "" && q.Provider == nil && q.ProviderPhrase == "" &&
		q.City == nil && q.CityPhrase == ""
}

// Filters counts the constraints of q (for scoring: a message with
// entities is more likely a data question).
func (q Query) Filters() int {
	n := len(q.Statuses) + len(q.Missing)
	for _, b := range []bool{q.New, q.Limit > 0 || q.Sort != "", q.Date != nil, q.BirthdayDays > 0, q.AgeMin != nil || q.AgeMax != nil,
		q.Name != "", q.Provider != nil || q.ProviderPhrase != "", q.City != nil || q.CityPhrase != ""} {
		if b {
			n++
		}
	}
	return n
}

func intp(v int) *int { return &v }

// Extract reads a patient query from m. today is the practice's current
// calendar day; v may be empty (then providers and cities are kept as
// typed phrases).
func Extract(m Message, today time.Time, v Vocabularies) Query {
	today = Day(today)
	q := Query{Used: make([]bool, m.Len())}
	ws := m.Norm
	mark := func(i, n int) {
		for j := i; j < i+n && j < len(q.Used); j++ {
			q.Used[j] = true
		}
	}
	birthday := m.Has("birthday", "birthdays", "bday", "bdays", "born")
	// MRN-like codes first: they contain digits a date or number parser would take.
	if code, start, n := findCode(m); n > 0 {
		q.Name = code
		mark(start, n)
	}
	if d, ok := FindDate(m, today, q.Used); ok {
		q.Date = &d
	}
	q.Statuses = StatusesWithNegation(m, q.Used)
	extractPlaces(m, &q, v, mark)
	if i := m.Index("new"); i >= 0 && !q.Used[i] && !m.AnyPhrase("a new", "add new", "new patient form") {
		q.New = true
		mark(i, 1)
	}
	extractAge(m, &q, mark)
	extractMissing(m, &q, mark)
	extractSortLimit(m, &q, mark)

	// What the date constrains.
	if q.Date != nil {
		switch {
		case birthday:
			q.DateField = FieldBirthday
		case m.Has("updated", "modified", "changed", "edited", "touched"):
			q.DateField = FieldUpdated
		case m.Has("created", "added", "registered", "joined", "signed", "enrolled") || q.New:
			q.DateField = FieldCreated
		case len(q.Statuses) > 0 && (q.Statuses[0] == Churned || m.Has("became", "moved", "went", "turned", "activated", "deactivated")):
			q.DateField = FieldStatusChanged
		default:
			q.DateField = FieldCreated
		}
		if q.DateField == FieldCreated && q.New {
			q.New = false // "new this month" is fully said by the date
			q.Statuses = removeStr(q.Statuses, Onboarding)
		}
	}
	if q.New {
		q.Statuses = appendUnique(q.Statuses, Onboarding)
	}
	if birthday {
		q.BirthdayDays = DefaultUpcomingDays
		if q.Date != nil {
			switch {
			case q.Date.Days > 0:
				q.BirthdayDays = q.Date.Days
			case !q.Date.To.IsZero() && !q.Date.To.Before(today):
				q.BirthdayDays = int(q.Date.To.Sub(today).Hours()/24) + 1
			}
			q.Date = nil
		}
		q.BirthdayDays = min(max(q.BirthdayDays, 1), 366)
		if q.Sort == "" {
			q.Sort = "birthday"
		}
		for i, w := range ws {
			if w == "birthday" || w == "birthdays" || w == "bday" || w == "bdays" {
				mark(i, 1)
			}
		}
	}
	extractNames(m, &q, mark)
	return q
}

func removeStr(ss []string, s string) []string {
	var out []string
	for _, x := range ss {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func appendUnique(ss []string, s string) []string {
	if containsStr(ss, s) {
		return ss
	}
	return append(ss, s)
}

func hasDigit(w string) bool {
	for _, r := range w {
		if r >= '0' && r <= '9' {
			return true
		}
	}
	return false
}

// findCode finds a record code as typed ("DEMO-000123", "mrn 001234",
// "P000123"): a token of letters and at least four digits, optionally
// joined by a hyphen, or digits after "mrn"/"id". It returns the code and
// the span of words it covers.
func findCode(m Message) (string, int, int) {
	toks := strings.Fields(m.Orig)
	prev := ""
	for _, t := range toks {
		t = strings.Trim(t, ".,;:!?()\"'")
		low := textmatch.Fold(t)
		code := ""
		switch {
		case looksLikeMRN(strings.ReplaceAll(low, "-", "")) && strings.Count(low, "-") <= 1:
			code = t
		case (prev == "mrn" || prev == "id" || prev == "#") && hasDigit(low) && len(low) >= 3:
			code = t
		}
		if code != "" {
			ws := Words(code)
			for i := 0; i+len(ws) <= m.Len(); i++ {
				if equalWords(m.Raw[i:i+len(ws)], ws) {
					start, n := i, len(ws)
					if i > 0 && (m.Norm[i-1] == "mrn" || m.Norm[i-1] == "id") {
						start, n = i-1, n+1
					}
					return code, start, n
				}
			}
		}
		prev = low
	}
	return "", 0, 0
}

// looksLikeMRN: letters then at least four digits, like "mrn001234",
// "demo000123" or "p000123".
func looksLikeMRN(w string) bool {
	if len(w) < 5 {
		return false
	}
	i := 0
	for i < len(w) && w[i] >= 'a' && w[i] <= 'z' {
		i++
	}
	if i == 0 || i > 4 || len(w)-i < 4 {
		return false
	}
	for _, r := range w[i:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func extractAge(m Message, q *Query, mark func(i, n int)) {
	ws := m.Norm
	free := func(i int) bool { return i < len(ws) && !q.Used[i] }
	// "years old" / "yo" / "year olds" after a number
	ageTail := func(j int) int {
		switch {
		case wsAt(ws, j) == "years" && wsAt(ws, j+1) == "old", wsAt(ws, j) == "year" && wsAt(ws, j+1) == "olds":
			return 2
		case wsAt(ws, j) == "yo" || wsAt(ws, j) == "yrs":
			return 1
		}
		return 0
	}
	for i := 0; i < len(ws); i++ {
		if !free(i) {
			continue
		}
		w := ws[i]
		next := wsAt(ws, i+1)
		switch {
		case (w == "over" || w == "above" || (w == "older" && next == "than") || (w == "more" && next == "than") || (w == "aged" && next == "over")):
			j := i + 1
			if next == "than" || next == "over" {
				j++
			}
			if v, k := NumberAt(ws, j); k > 0 && free(j) && v < 130 {
				if _, isUnit := unitAt(ws, j+k); isUnit && ageTail(j+k) == 0 {
					continue
				}
				q.AgeMin = intp(v + 1)
				mark(i, j-i+k+ageTail(j+k))
			}
		case w == "under" || w == "below" || (w == "younger" && next == "than") || (w == "less" && next == "than") || (w == "aged" && next == "under"):
			j := i + 1
			if next == "than" || next == "under" {
				j++
			}
			if v, k := NumberAt(ws, j); k > 0 && free(j) && v < 130 {
				if _, isUnit := unitAt(ws, j+k); isUnit && ageTail(j+k) == 0 {
					continue
				}
				q.AgeMax = intp(v - 1)
				mark(i, j-i+k+ageTail(j+k))
			}
		case w == "at" && next == "least":
			if v, k := NumberAt(ws, i+2); k > 0 && free(i+2) && (ageTail(i+2+k) > 0 || m.Has("age", "aged", "old")) {
				q.AgeMin = intp(v)
				mark(i, 2+k+ageTail(i+2+k))
			}
		case w == "between" || w == "aged" || w == "age" || w == "ages":
			j := i + 1
			if wsAt(ws, j) == "between" || wsAt(ws, j) == "of" {
				j++
			}
			if lo, hi, ok := rangeToken(wsAt(ws, j)); ok && free(j) {
				q.AgeMin, q.AgeMax = intp(lo), intp(hi)
				mark(i, j-i+1+ageTailAt(ws, j+1))
				continue
			}
			a, k := NumberAt(ws, j)
			if k == 0 || !free(j) {
				continue
			}
			sep := wsAt(ws, j+k)
			if sep == "and" || sep == "to" || sep == "through" || sep == "or" {
				if b, k2 := NumberAt(ws, j+k+1); k2 > 0 && (w != "between" || ageTail(j+k+1+k2) > 0 || m.Has("age", "aged", "ages", "old")) {
					q.AgeMin, q.AgeMax = intp(min(a, b)), intp(max(a, b))
					mark(i, j-i+k+1+k2+ageTail(j+k+1+k2))
					continue
				}
			}
			if w == "aged" || w == "age" {
				if strings.Contains(m.Raw[j], "-") {
					continue
				}
				after, next2 := wsAt(ws, j+k), wsAt(ws, j+k+1)
				switch {
				case (after == "and" || after == "or") && (next2 == "over" || next2 == "older" || next2 == "up" || next2 == "above"):
					q.AgeMin = intp(a)
					mark(i, j-i+k+2)
				case (after == "and" || after == "or") && (next2 == "under" || next2 == "younger" || next2 == "below"):
					q.AgeMax = intp(a)
					mark(i, j-i+k+2)
				default:
					q.AgeMin, q.AgeMax = intp(a), intp(a)
					mark(i, j-i+k)
				}
			}
		case w == "in" && next == "their":
			// "in their 30s", "in their thirties"
			dec := wsAt(ws, i+2)
			if d, ok := decades[dec]; ok {
				q.AgeMin, q.AgeMax = intp(d), intp(d+9)
				mark(i, 3)
			}
		case w == "seniors" || w == "senior" || w == "elderly":
			q.AgeMin = intp(65)
			mark(i, 1)
		case w == "minors" || w == "minor" || w == "children" || w == "kids" || w == "pediatric" || w == "child":
			q.AgeMax = intp(17)
			mark(i, 1)
		case w == "teens" || w == "teenagers":
			q.AgeMin, q.AgeMax = intp(13), intp(19)
			mark(i, 1)
		case w == "adults" || w == "adult":
			q.AgeMin = intp(18)
			mark(i, 1)
		default:
			if v, k := NumberAt(ws, i); k > 0 && v < 130 {
				if t := ageTail(i + k); t > 0 {
					// "60 years old and over", "65 or older", "65+"
					after := wsAt(ws, i+k+t)
					switch {
					case after == "and" && (wsAt(ws, i+k+t+1) == "over" || wsAt(ws, i+k+t+1) == "older" || wsAt(ws, i+k+t+1) == "up"),
						after == "or" && (wsAt(ws, i+k+t+1) == "older" || wsAt(ws, i+k+t+1) == "over" || wsAt(ws, i+k+t+1) == "more"):
						q.AgeMin = intp(v)
						mark(i, k+t+2)
					case (after == "and" || after == "or") && (wsAt(ws, i+k+t+1) == "under" || wsAt(ws, i+k+t+1) == "younger" || wsAt(ws, i+k+t+1) == "less"):
						q.AgeMax = intp(v)
						mark(i, k+t+2)
					default:
						q.AgeMin, q.AgeMax = intp(v), intp(v)
						mark(i, k+t)
					}
				} else if (wsAt(ws, i+k) == "and" || wsAt(ws, i+k) == "or") && (wsAt(ws, i+k+1) == "older" || wsAt(ws, i+k+1) == "over") && !q.Used[i] {
					q.AgeMin = intp(v)
					mark(i, k+2)
				} else if (wsAt(ws, i+k) == "and" || wsAt(ws, i+k) == "or") && (wsAt(ws, i+k+1) == "younger" || wsAt(ws, i+k+1) == "under") && !q.Used[i] {
					q.AgeMax = intp(v)
					mark(i, k+2)
				}
			}
		}
	}
}

var decades = map[string]int{
	"20s": 20, "30s": 30, "40s": 40, "50s": 50, "60s": 60, "70s": 70, "80s": 80, "90s": 90,
	"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70, "eighties": 80, "nineties": 90,
}

func extractMissing(m Message, q *Query, mark func(i, n int)) {
	ws := m.Norm
	for i := 0; i < len(ws); i++ {
		if q.Used[i] {
			continue
		}
		w := ws[i]
		switch w {
		case "uninsured":
			q.Missing = appendUnique(q.Missing, sdk.MissingInsurance)
			mark(i, 1)
			continue
		case "unassigned":
			q.Missing = appendUnique(q.Missing, "provider")
			mark(i, 1)
			continue
		case "no", "without", "missing", "lacking", "lack", "lacks", "empty", "blank":
		default:
			continue
		}
		j := i + 1
		for wsAt(ws, j) == "a" || wsAt(ws, j) == "an" || wsAt(ws, j) == "any" || wsAt(ws, j) == "their" || wsAt(ws, j) == "assigned" {
			j++
		}
		found := false
		for j < len(ws) {
			kind, ok := missingKinds[ws[j]]
			if ws[j] == "number" && !found {
				ok = false // "no number" alone is not a phone
			}
			if !ok {
				if found && (ws[j] == "and" || ws[j] == "or" || ws[j] == "nor") {
					j++
					continue
				}
				if found && (ws[j] == "number" || ws[j] == "numbers" || ws[j] == "info" || ws[j] == "on" || ws[j] == "file") {
					j++
					continue
				}
				break
			}
			if kind == "address" && j > 0 && ws[j-1] == "email" {
				j++ // "email address" is an email
				continue
			}
			q.Missing = appendUnique(q.Missing, kind)
			found = true
			j++
		}
		if found {
			mark(i, j-i)
		}
	}
}

func extractSortLimit(m Message, q *Query, mark func(i, n int)) {
	ws := m.Norm
	free := func(i int) bool { return i >= 0 && i < len(ws) && !q.Used[i] }
	setLimit := func(v int) {
		if v > 0 && q.Limit == 0 {
			q.Limit = min(v, 200)
		}
	}
	for i := 0; i < len(ws); i++ {
		if !free(i) {
			continue
		}
		w, next := ws[i], wsAt(ws, i+1)
		switch {
		case (w == "top" || w == "first" || w == "limit" || w == "only" || w == "just") && free(i+1):
			if v, k := NumberAt(ws, i+1); k > 0 && v > 0 {
				if _, isUnit := unitAt(ws, i+1+k); !isUnit {
					setLimit(v)
					mark(i, 1+k)
					if w == "first" && q.Sort == "" && m.Has("added", "created", "registered") {
						q.Sort = "created_at"
					}
				}
			}
		case (w == "most" && (next == "recent" || next == "recently")) || w == "newest" || w == "latest" || (w == "recently" && (next == "added" || next == "created" || next == "registered")):
			if m.Has("updated", "modified", "changed", "edited") {
				q.Sort = "-updated_at"
			} else {
				q.Sort = "-created_at"
			}
			mark(i, 1)
			limitBefore(m, q, i, mark, setLimit)
		case w == "recently" && (next == "updated" || next == "modified" || next == "changed" || next == "edited"):
			q.Sort = "-updated_at"
			mark(i, 1)
		case w == "last" && (next == "updated" || next == "modified"):
			q.Sort = "-updated_at"
			mark(i, 1)
		case w == "oldest" || w == "youngest":
			if m.Has("record", "records", "added", "created", "registered", "entries") {
				q.Sort = map[string]string{"oldest": "created_at", "youngest": "-created_at"}[w]
			} else {
				q.Sort = map[string]string{"oldest": "date_of_birth", "youngest": "-date_of_birth"}[w]
			}
			mark(i, 1)
			limitBefore(m, q, i, mark, setLimit)
		case w == "earliest":
			q.Sort = "created_at"
			mark(i, 1)
			limitBefore(m, q, i, mark, setLimit)
		case w == "alphabetical" || w == "alphabetically":
			q.Sort = "last_name"
			mark(i, 1)
		case (w == "by" || w == "sort" || w == "sorted" || w == "order" || w == "ordered") && next != "":
			j := i + 1
			if ws[j] == "by" {
				j++
			}
			switch wsAt(ws, j) {
			case "name", "surname", "last":
				q.Sort = "last_name"
				n := j - i + 1
				if wsAt(ws, j) == "last" && wsAt(ws, j+1) == "name" {
					n++
				}
				mark(i, n)
			case "first":
				if wsAt(ws, j+1) == "name" {
					q.Sort = "first_name"
					mark(i, j-i+2)
				}
			case "age":
				q.Sort = "-date_of_birth"
				mark(i, j-i+1)
			case "birthday", "birthdays":
				q.Sort = "birthday"
				mark(i, j-i+1)
			case "status":
				q.Sort = "status"
				mark(i, j-i+1)
			case "mrn":
				q.Sort = "mrn"
				mark(i, j-i+1)
			}
		}
	}
	// "show 10 active patients", "list five patients": a count before
	// the noun is a limit.
	if q.Limit == 0 {
		for i := 0; i < len(ws); i++ {
			if !free(i) {
				continue
			}
			if v, k := NumberAt(ws, i); k > 0 && v > 0 && (ws[i] != "a" && ws[i] != "an") {
				j := i + k
				for free(j) && j < len(ws) && (containsStr(q.Statuses, statusOf(ws[j])) || ws[j] == "new") {
					j++
				}
				if j < len(ws) && (ws[j] == "patients" || ws[j] == "people" || ws[j] == "records" || ws[j] == "clients") || (q.Used[min(j, len(ws)-1)] && j < len(ws) && statusOf(ws[j]) != "") {
					if i > 0 && (ws[i-1] == "than" || ws[i-1] == "over" || ws[i-1] == "under") {
						continue
					}
					setLimit(v)
					mark(i, k)
					break
				}
			}
		}
	}
}

func statusOf(w string) string {
	for _, sp := range statusPhrases {
		if sp.phrase == w {
			return sp.status
		}
	}
	return ""
}

// limitBefore reads "5 newest", "the 3 oldest", "10 youngest active":
// a number up to three words before word i, skipping status words.
func limitBefore(m Message, q *Query, i int, mark func(i, n int), setLimit func(int)) {
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		if q.Used[j] && statusOf(m.Norm[j]) == "" {
			return
		}
		if q.Used[j] {
			continue
		}
		for k := 2; k >= 1; k-- {
			if j-k+1 < 0 {
				continue
			}
			if v, n := NumberAt(m.Norm, j-k+1); n == k && v > 0 && m.Norm[j-k+1] != "a" && m.Norm[j-k+1] != "an" {
				setLimit(v)
				mark(j-k+1, n)
				return
			}
		}
		if v, n := NumberAt(m.Norm, j-1); n == 2 && v > 0 {
			setLimit(v)
			mark(j-1, n)
			return
		}
		if m.Norm[j] != "the" && m.Norm[j] != "most" {
			return
		}
	}
}

// recordNouns name a patient's record: "the chart of <name>".
var recordNouns = words(`record records chart file profile details info information`)

// nameShaped reports whether w could be a name: letters only, at least
// two vowels (y counts), no run of five consonants ("asdfghjkl" is not).
func nameShaped(w string) bool {
	vowels, run := 0, 0
	for _, r := range w {
		switch {
		case r < 'a' || r > 'z':
			return false
		case strings.ContainsRune("aeiouy", r):
			vowels++
			run = 0
		default:
			run++
			if run >= 5 {
				return false
			}
		}
	}
	return vowels >= 2 && len(w) >= 3
}

// nameCues precede a patient's name.
var nameCues = words(`named called name surname lastname firstname`)

// lookCues precede a name when what follows is not a keyword.
var lookCues = words(`find lookup search open locate activate deactivate reactivate churn set mark move`)

// statusVerbs are the verbs of a status change ("set", "change",
// "switch" … <name> to inactive). Every one of them precedes a name when
// the message names the status to move to, whichever verb is used.
var statusVerbs = words(`mark set change move switch update put make turn`)

// StatusVerbs returns the verbs of a status change, in a new slice.
func StatusVerbs() []string {
	return []string{"mark", "set", "change", "move", "switch", "update", "put", "make", "turn"}
}

// placeCues precede a city.
var placeCues = words(`in from near at live lives living located based`)

// providerCues precede a provider.
var providerCues = words(`dr doctor provider physician clinician`)

// extractPlaces finds providers and cities (before "new", so "New York"
// stays a city).
func extractPlaces(m Message, q *Query, v Vocabularies, mark func(i, n int)) {
	ws, raw := m.Norm, m.Raw
	cueBefore := func(start int, cues map[string]bool) bool {
		for k := 1; k <= 2; k++ {
			if w := wsAt(ws, start-k); cues[w] {
				return true
			} else if w != "the" && w != "a" && w != "of" && w != "by" && w != "to" && w != "with" && w != "who" {
				return false
			}
		}
		return false
	}
	// Providers: with cue words, or an exact full-name match.
	if v.Providers.Len() > 0 {
		if mt, ok := v.Providers.Find(m, q.Used, func(s, e int) bool {
			if titles[raw[s]] {
				return true
			}
			w := wsAt(ws, s-1)
			return titles[w] || providerCues[w] || w == "of" || w == "with" || w == "by" || w == "for" || w == "to" ||
				wsAt(ws, e) == "patients" || wsAt(ws, e) == "panel"
		}); ok {
			q.Provider = &mt
			mark(mt.Start, mt.End-mt.Start)
			if mt.Start > 0 && (titles[ws[mt.Start-1]] || providerCues[ws[mt.Start-1]]) {
				mark(mt.Start-1, 1)
			}
		}
	}
	if q.Provider == nil {
		for i, w := range ws {
			if (w == "dr" || w == "doctor") && i+1 < len(ws) && !q.Used[i+1] && !Known(ws[i+1]) {
				q.ProviderPhrase = raw[i+1]
				mark(i, 2)
				break
			}
		}
	}
	// Cities: after a place cue.
	if v.Cities.Len() > 0 {
		if mt, ok := v.Cities.Find(m, q.Used, func(s, _ int) bool { return cueBefore(s, placeCues) }); ok && mt.Score >= 0.75 {
			q.City = &mt
			mark(mt.Start, mt.End-mt.Start)
		}
	}
	if q.City == nil {
		for i, w := range ws {
			if placeCues[w] && w != "at" && i+1 < len(ws) && !q.Used[i+1] && !Known(ws[i+1]) && !isNumber(ws[i+1]) {
				if _, isMonth := monthNames[ws[i+1]]; isMonth {
					continue
				}
				end := i + 2
				for end < len(ws) && end < i+4 && !q.Used[end] && !Known(ws[end]) && !isNumber(ws[end]) {
					end++
				}
				q.CityPhrase = m.Phrase(i+1, end)
				mark(i+1, end-i-1)
				break
			}
		}
	}
}

// extractNames finds the name or MRN to search for.
func extractNames(m Message, q *Query, mark func(i, n int)) {
	ws := m.Norm
	// After a name cue, or after find/search/look up when what follows
	// is not a keyword.
	if q.Name != "" {
		return
	}
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		cue := nameCues[w] || ((lookCues[w] || statusVerbs[w] && len(q.Statuses) > 0) && i+1 < len(ws)) ||
			(w == "status" && len(q.Statuses) > 0 && (wsAt(ws, i+1) == "of" || wsAt(ws, i+1) == "for")) || (w == "look" && wsAt(ws, i+1) == "up") || (w == "pull" && wsAt(ws, i+1) == "up") ||
			(w == "bring" && wsAt(ws, i+1) == "up") ||
			((w == "for" || w == "of") && i > 0 && recordNouns[ws[i-1]]) ||
			(w == "patient" && i+1 < len(ws) && !Known(ws[i+1]) && !q.Used[i+1]) || (w == "for" && i > 0 && (ws[i-1] == "search" || ws[i-1] == "look" || ws[i-1] == "looking"))
		if !cue {
			continue
		}
		j := i + 1
		if w == "look" || w == "pull" || w == "bring" || w == "status" {
			j++
		}
		for j < len(ws) && (ws[j] == "for" || ws[j] == "patient" || ws[j] == "the" || ws[j] == "a" || ws[j] == "is" || ws[j] == "me") {
			j++
		}
		end := j
		for end < len(ws) && end < j+3 && !q.Used[end] && !recordNouns[ws[end]] && (!Known(ws[end]) || (end > j && !Lexicon(ws[end]) && !common[ws[end]])) && !isNumber(ws[end]) {
			end++
		}
		if end > j {
			q.Name = m.Phrase(j, end)
			mark(j, end-j)
			return
		}
	}
	// A message that is only a name: "KOWALSKI", "mendoza".
	if len(ws) <= 3 {
		lone := len(ws) > 0
		for i, w := range ws {
			lone = lone && !q.Used[i] && !Known(w) && !Known(m.Raw[i]) && nameShaped(w)
		}
		if lone {
			q.Name, q.LoneName = m.Phrase(0, len(ws)), true
			mark(0, len(ws))
			return
		}
	}
	// "<name>'s record|chart|file"
	for i := 1; i < len(ws); i++ {
		if ws[i] == "record" || ws[i] == "chart" || ws[i] == "file" || ws[i] == "profile" || ws[i] == "details" {
			start := i
			for start > 0 && i-start < 3 && !q.Used[start-1] && !Known(ws[start-1]) {
				start--
			}
			if start < i {
				q.Name = m.Phrase(start, i)
				mark(start, i-start)
				return
			}
		}
	}
}

// rangeToken reads "40-60" or "40/60" typed as one word.
func rangeToken(w string) (int, int, bool) {
	for _, sep := range []string{"-", "/"} {
		a, b, ok := strings.Cut(w, sep)
		if !ok {
			continue
		}
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		if err1 == nil && err2 == nil && x < 130 && y < 130 && x <= y {
			return x, y, true
		}
	}
	return 0, 0, false
}

func ageTailAt(ws []string, j int) int {
	if wsAt(ws, j) == "years" && wsAt(ws, j+1) == "old" {
		return 2
	}
	return 0
}
