package chat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/pfinni/pfinni/internal/textmatch"
	"github.com/pfinni/pfinni/sdk"
)

// Placeholders that stand for what the history does not keep.
const (
	PHName    = "[name]"
	PHMRN     = "[mrn]"
	PHDate    = "[date]"
	PHPhone   = "[phone]"
	PHEmail   = "[email]"
	PHAddress = "[address]"
	PHSSN     = "[ssn]"
	PHNumber  = "[number]"
	// PHWord replaces any word of a user's message that is not an
	// everyday or pfinni word (allowWords).
	PHWord = "[word]"
	// NotStored is the text kept when the message could not be checked
	// against the patient directory (fail closed).
	NotStored = "[message not stored]"
)

// errNoDirectory: the Service has no patient directory to check names
// against, so free text is never stored.
var errNoDirectory = errors.New("no patient directory to check names against")

// Patterns of identifiers, most specific first.
var (
	reEmail   = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	reSSN     = regexp.MustCompile(`\b\d{3}[- ]\d{2}[- ]\d{4}\b`)
	rePhone   = regexp.MustCompile(`(?:\+?\d{1,3}[\s.\-]?)?(?:\(\d{3}\)|\b\d{3})[\s.\-]?\d{3}[\s.\-]?\d{4}\b`)
	reISODate = regexp.MustCompile(`\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b`)
	reUSDate  = regexp.MustCompile(`\b\d{1,2}[/.\-]\d{1,2}(?:[/.\-]\d{2,4})?\b`)
	reMonDate = regexp.MustCompile(`(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,4}(?:st|nd|rd|th)?(?:,?\s+\d{2,4})?\b|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?:,?\s+\d{2,4})?\b`)
	reStreet  = regexp.MustCompile(`(?i)\b\d{1,6}\s+(?:[A-Za-z0-9.'\-]+\s+){0,4}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|court|ct|way|place|pl|terrace|ter|parkway|pkwy|circle|cir|highway|hwy|square|sq)\b\.?(?:,?\s*(?:apt|apartment|suite|ste|unit|#)\.?\s*[A-Za-z0-9\-]+)?`)
	rePOBox   = regexp.MustCompile(`(?i)\bp\.?\s?o\.?\s+box\s+\d+`)
	reMRNCue  = regexp.MustCompile(`(?i)\b(?:mrn|medical record(?: number)?|record number)\s*(?:is|:|#|no\.?|number)?\s*[A-Za-z0-9][A-Za-z0-9._\-]*\d[A-Za-z0-9._\-]*`)
	reLongNum = regexp.MustCompile(`\b\d{4,}\b`)
	reToken   = regexp.MustCompile(`\[[a-z ]+\]|[\p{L}\p{N}][\p{L}\p{N}'’_\-]*`)
)

// patterns replaces the identifiers found by shape.
func patterns(s string) string {
	s = reEmail.ReplaceAllString(s, PHEmail)
	s = reMRNCue.ReplaceAllString(s, PHMRN)
	s = reMonDate.ReplaceAllString(s, PHDate)
	s = reISODate.ReplaceAllString(s, PHDate)
	s = reSSN.ReplaceAllString(s, PHSSN)
	s = rePhone.ReplaceAllString(s, PHPhone)
	s = reUSDate.ReplaceAllString(s, PHDate)
	s = reStreet.ReplaceAllString(s, PHAddress)
	s = rePOBox.ReplaceAllString(s, PHAddress)
	return reLongNum.ReplaceAllString(s, PHNumber)
}

// redactor decides, for one exchange, what of its text may be stored.
// It is built by asking the patient directory about every word of the
// exchange at once; when the directory cannot answer there is no
// redactor, and no free text is stored (fail closed).
type redactor struct {
	allow map[string]bool
	names map[string]bool // folded words that are a patient's name or MRN
	typed map[string]bool // folded words the user typed that are not allowed (echoes are removed from replies)
}

// newRedactor asks the directory which words of user and texts are
// patients' names or MRNs.
func (s *Service) newRedactor(ctx context.Context, user string, texts ...string) (*redactor, error) {
	if s.dir == nil {
		return nil, errNoDirectory
	}
	r := &redactor{allow: s.allow, names: map[string]bool{}, typed: map[string]bool{}}
	seen := map[string]bool{}
	var words []string
	collect := func(text string, typed bool) {
		for _, tok := range reToken.FindAllString(patterns(text), -1) {
			for _, w := range wordsOf(tok) {
				if typed && !r.allow[w] {
					r.typed[w] = true
				}
				if !seen[w] {
					seen[w] = true
					words = append(words, w)
				}
			}
		}
	}
	collect(user, true)
	for _, t := range texts {
		collect(t, false)
	}
	if len(words) == 0 {
		return r, nil
	}
	hits, err := s.dir.NameWords(systemCtx(ctx), words)
	if err != nil {
		return nil, fmt.Errorf("check chat text against the patient directory: %w", err)
	}
	for i, hit := range hits {
		if hit {
			r.names[words[i]] = true
		}
	}
	return r, nil
}

// UserText is a user's message as stored: identifiers found by shape
// become placeholders, patients' name words PHName, every other word
// outside allowWords PHWord, numbers of more than three digits PHNumber.
func (r *redactor) UserText(msg string) string {
	if r == nil {
		return NotStored
	}
	return reToken.ReplaceAllStringFunc(patterns(msg), func(tok string) string {
		if isPlaceholder(tok) {
			return tok
		}
		ws := wordsOf(tok)
		if len(ws) == 0 {
			return tok
		}
		for _, w := range ws {
			switch {
			case r.names[w]:
				return PHName
			case hasDigit(w):
				if !smallNumber(w) {
					return PHNumber
				}
			case !r.allow[w]:
				return PHWord
			}
		}
		return tok
	})
}

// Text is assistant text as stored (a reply, a label, a suggestion):
// identifiers found by shape become placeholders, patients' name words
// PHName, and any word the user typed that is not an allowed word PHWord
// (a reply cannot carry the user's free text by echoing it).
func (r *redactor) Text(s string) string {
	if r == nil {
		return ""
	}
	return reToken.ReplaceAllStringFunc(patterns(s), func(tok string) string {
		if isPlaceholder(tok) {
			return tok
		}
		for _, w := range wordsOf(tok) {
			switch {
			case r.names[w]:
				return PHName
			case r.typed[w]:
				return PHWord
			}
		}
		return tok
	})
}

// Texts applies Text to each of ss.
func (r *redactor) Texts(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if t := r.Text(s); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func isPlaceholder(tok string) bool { return strings.HasPrefix(tok, "[") }

func hasDigit(w string) bool { return strings.ContainsAny(w, "0123456789") }

// smallNumber reports whether w is a number of at most three digits,
// possibly an ordinal or a decade ("5", "65", "5th", "30s").
func smallNumber(w string) bool {
	d := 0
	for d < len(w) && w[d] >= '0' && w[d] <= '9' {
		d++
	}
	if d == 0 || d > 3 {
		return false
	}
	switch w[d:] {
	case "", "st", "nd", "rd", "th", "s":
		return true
	}
	return false
}

// storedQuery is a patient-list query string as stored: the SDK's filter
// keys (sdk.PatientFilterKeys) but the free-text ones: the search text
// becomes PHName, a tag (text a practice writes) is dropped.
func storedQuery(q string) string {
	vals, err := url.ParseQuery(q)
	if err != nil {
		return ""
	}
	out := url.Values{}
	for k, v := range vals {
		switch {
		case k == sdk.FilterText:
			out.Set(sdk.FilterText, PHName)
		case k == sdk.FilterTag:
		case slices.Contains(sdk.PatientFilterKeys(), k):
			out[k] = v
		}
	}
	return out.Encode()
}

// wordsOf splits s into folded words of letters and digits, dropping
// apostrophes and a possessive "s" ("O'Brien's" -> "obrien").
func wordsOf(s string) []string {
	f := textmatch.Fold(s)
	f = strings.ReplaceAll(f, "'s ", " ")
	f = strings.ReplaceAll(f, "’s ", " ")
	if strings.HasSuffix(f, "'s") || strings.HasSuffix(f, "’s") {
		f = strings.TrimSuffix(strings.TrimSuffix(f, "'s"), "’s")
	}
	f = strings.NewReplacer("'", "", "’", "").Replace(f)
	return strings.FieldsFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}
