package chat

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Placeholders that replace identifiers in stored history.
const (
	PHName    = "[name]"
	PHMRN     = "[mrn]"
	PHDate    = "[date]"
	PHPhone   = "[phone]"
	PHEmail   = "[email]"
	PHAddress = "[address]"
	PHSSN     = "[ssn]"
	PHNumber  = "[number]"
)

// Patterns of identifiers, most specific first.
var (
	reEmail   = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	reSSN     = regexp.MustCompile(`\b\d{3}[- ]\d{2}[- ]\d{4}\b`)
	rePhone   = regexp.MustCompile(`(?:\+?\d{1,3}[\s.\-]?)?(?:\(\d{3}\)|\b\d{3})[\s.\-]?\d{3}[\s.\-]?\d{4}\b`)
	reISODate = regexp.MustCompile(`\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b`)
	reUSDate  = regexp.MustCompile(`\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b`)
	reMonDate = regexp.MustCompile(`(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{4}\b`)
	reStreet  = regexp.MustCompile(`(?i)\b\d{1,6}\s+(?:[A-Za-z0-9.'\-]+\s+){0,4}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|court|ct|way|place|pl|terrace|ter|parkway|pkwy|circle|cir|highway|hwy|square|sq)\b\.?(?:,?\s*(?:apt|apartment|suite|ste|unit|#)\.?\s*[A-Za-z0-9\-]+)?`)
	rePOBox   = regexp.MustCompile(`(?i)\bp\.?\s?o\.?\s+box\s+\d+`)
	reMRNCue  = regexp.MustCompile(`(?i)\b(?:mrn|medical record(?: number)?|record number)\s*(?:is|:|#|no\.?|number)?\s*[A-Za-z0-9][A-Za-z0-9._\-]*`)
	reLongNum = regexp.MustCompile(`\b\d{5,}\b`)
	reToken   = regexp.MustCompile(`[\p{L}\p{N}][\p{L}\p{N}'’._\-]*`)
	reDOBCue  = regexp.MustCompile(`(?i)\b(?:born|dob|date of birth|birthday|birth date)\s*(?:is|on|:|was)?\s*(?:the\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?)?`)
)

// scrubber removes identifiers from text before it is stored. It knows
// the name words and MRNs of the directory's patients (a snapshot) and
// the words of this exchange's name search; everything else is found by
// pattern.
type scrubber struct {
	v     *vocabulary
	extra map[string]bool // folded words to remove (the name searched for)
}

func newScrubber(v *vocabulary) *scrubber {
	if v == nil {
		v = &vocabulary{names: map[string]bool{}, mrns: map[string]bool{}, byLen: map[int][]string{}}
	}
	return &scrubber{v: v, extra: map[string]bool{}}
}

// addName marks the words of phrase as a name for this exchange.
func (sc *scrubber) addName(phrase string) {
	for _, w := range wordsOf(phrase) {
		sc.extra[w] = true
	}
}

// Text returns s with identifiers replaced by placeholders.
func (sc *scrubber) Text(s string) string {
	s = reEmail.ReplaceAllString(s, PHEmail)
	s = reMRNCue.ReplaceAllString(s, PHMRN)
	s = reDOBCue.ReplaceAllString(s, PHDate)
	s = reMonDate.ReplaceAllString(s, PHDate)
	s = reISODate.ReplaceAllString(s, PHDate)
	s = reSSN.ReplaceAllString(s, PHSSN)
	s = reUSDate.ReplaceAllString(s, PHDate)
	s = rePhone.ReplaceAllString(s, PHPhone)
	s = reStreet.ReplaceAllString(s, PHAddress)
	s = rePOBox.ReplaceAllString(s, PHAddress)
	s = reLongNum.ReplaceAllString(s, PHNumber)
	return reToken.ReplaceAllStringFunc(s, sc.token)
}

// token replaces one word if it is an MRN or a patient's name.
func (sc *scrubber) token(tok string) string {
	f := fold(tok)
	if sc.v.mrns[f] || sc.v.mrns[strings.Trim(f, "._-")] {
		return PHMRN
	}
	parts := wordsOf(tok)
	if len(parts) == 0 {
		return tok
	}
	hit := false
	for _, w := range parts {
		if sc.isName(w, tok) {
			hit = true
			break
		}
	}
	if hit {
		return PHName
	}
	return tok
}

// isName reports whether the folded word w (typed as raw) is a name: an
// exact name word of a patient or of this exchange's search, or one typo
// away from one when w is not an everyday word.
func (sc *scrubber) isName(w, raw string) bool {
	everyday := commonWords[w]
	if sc.extra[w] {
		return true
	}
	if sc.v.names[w] {
		// A lowercase everyday word ("will", "young", "may") is kept;
		// capitalised, it is taken for the name.
		return !everyday || startsUpper(raw)
	}
	if everyday || len(w) < 4 {
		return false
	}
	for _, n := range []int{len(w) - 1, len(w), len(w) + 1} {
		for _, cand := range sc.v.byLen[n] {
			if osa1(w, cand) {
				return true
			}
		}
	}
	for x := range sc.extra {
		if osa1(w, x) {
			return true
		}
	}
	return false
}

func startsUpper(s string) bool {
	for _, r := range s {
		return unicode.IsUpper(r)
	}
	return false
}

// osa1 reports whether a and b are at most one edit apart (insertion,
// deletion, substitution or adjacent transposition).
func osa1(a, b string) bool {
	if a == b {
		return true
	}
	la, lb := len(a), len(b)
	switch {
	case la == lb:
		i := 0
		for i < la && a[i] == b[i] {
			i++
		}
		if i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:] {
			return true
		}
		return a[i+1:] == b[i+1:]
	case la == lb+1:
		return oneDeletion(a, b)
	case lb == la+1:
		return oneDeletion(b, a)
	}
	return false
}

func oneDeletion(long, short string) bool {
	i := 0
	for i < len(short) && long[i] == short[i] {
		i++
	}
	return long[i+1:] == short[i:]
}

// Query scrubs a patient-list query string: the free-text search (q) is
// a name or MRN and becomes a placeholder; other filters are kept.
func (sc *scrubber) Query(q string) string {
	vals, err := url.ParseQuery(q)
	if err != nil {
		return ""
	}
	if vals.Get("q") != "" {
		vals.Set("q", PHName)
	}
	return vals.Encode()
}

// Value scrubs a decoded JSON value: strings are scrubbed, MRNs and
// contact fields dropped, patient lists reduced to record references.
func (sc *scrubber) Value(key string, v any) any {
	switch x := v.(type) {
	case string:
		switch key {
		case "query":
			return sc.Query(x)
		case "target":
			if i := strings.IndexByte(x, '?'); i >= 0 {
				return x[:i+1] + sc.Query(x[i+1:])
			}
		case "id", "type", "intent":
			return x
		}
		return sc.Text(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			switch k {
			case "mrn", "first_name", "last_name", "name", "date_of_birth", "phone", "email", "address", "ssn":
				continue
			case "patients":
				out[k] = refsOf(val)
				continue
			case "q":
				out[k] = PHName
				continue
			}
			out[k] = sc.Value(k, val)
		}
		return out
	case []map[string]string:
		out := make([]any, len(x))
		for i, m := range x {
			mm := map[string]any{}
			for k, v := range m {
				mm[k] = v
			}
			out[i] = sc.Value(key, mm)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = sc.Value(key, val)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, val := range x {
			out[i] = sc.Text(val)
		}
		return out
	}
	return v
}

// refsOf reduces a patient list to record references.
func refsOf(v any) []map[string]string {
	var out []map[string]string
	add := func(id string) {
		if id != "" {
			out = append(out, map[string]string{"ref": "patient:" + id})
		}
	}
	switch x := v.(type) {
	case []map[string]string:
		for _, m := range x {
			add(m["id"])
		}
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				id, _ := m["id"].(string)
				add(id)
			}
		}
	}
	if out == nil {
		out = []map[string]string{}
	}
	return out
}

// fold lowercases s and strips diacritics.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// wordsOf splits s into folded words of letters and digits, dropping
// apostrophes and a possessive "s" ("O'Brien's" -> "obrien").
func wordsOf(s string) []string {
	f := fold(s)
	f = strings.ReplaceAll(f, "'s ", " ")
	f = strings.ReplaceAll(f, "’s ", " ")
	if strings.HasSuffix(f, "'s") || strings.HasSuffix(f, "’s") {
		f = strings.TrimSuffix(strings.TrimSuffix(f, "'s"), "’s")
	}
	f = strings.NewReplacer("'", "", "’", "").Replace(f)
	return strings.FieldsFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// commonWords are everyday and dashboard words that are never taken for
// a name because of a typo (a patient literally named like one is still
// removed when capitalised).
var commonWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
a an the and or of to in on at for with by from is are was were be been being do does did done have has had
me my our your their them they we i you it its that these those this what when where which who whom whose why how
all any some each every not no yes please can could would should will shall may might must there here then than
also just only very too so if but as into out up down about over under after before since until between during
show list find display search look lookup open view give pull fetch get see tell let help want need know like
many much more most less least few count number total how amount top first last next past previous recent
patient patients people person persons client clients record records everyone anyone someone nobody
active inactive onboarding churned churn current left lost pending new status statuses former
birthday birthdays born upcoming soon today yesterday tomorrow week weeks month months year years day days
quarter quarters weekend created added registered joined updated modified changed edited
phone email insurance insured uninsured address provider providers doctor physician assigned unassigned
missing without lacking older younger aged age old seniors senior adults adult kids children minors
sort sorted order alphabetical newest latest oldest youngest earliest
january february march april june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
summary overview trend trends growth insights statistics stats breakdown dashboard report backlog stuck
tour guide welcome page pages settings import imports upload audit logout login sign form field error
change set move mark update activate deactivate reactivate reason because confirm cancel
hipaa phi privacy breach security access minimum necessary policy
city town state live lives living near based located street road
good great thanks thank hello hi hey okay ok sure right wrong mean means meaning
name names named called date dates data time times again now still even ever never always
one two three four five six seven eight nine ten twenty thirty forty fifty sixty hundred
them him her his hers she he its
`) {
		m[w] = true
	}
	return m
}()
