package patient

import (
	"strings"
	"unicode/utf8"

	"github.com/pfinni/pfinni/internal/textmatch"
)

// tokenIndex is the dictionary of distinct name tokens of all patients,
// with a trigram index over it. Fuzzy matching runs over the dictionary
// (a few thousand words), not over the patients, so a typo search costs
// the same at 1,000 or 100,000 patients; the per-patient pass is then a
// map lookup per name token.
type tokenIndex struct {
	refs     map[string]int                 // token -> number of patients having it
	trigrams map[string]map[string]struct{} // trigram -> tokens
}

func newTokenIndex() *tokenIndex {
	return &tokenIndex{refs: map[string]int{}, trigrams: map[string]map[string]struct{}{}}
}

func (ti *tokenIndex) add(tokens []string) {
	for _, t := range tokens {
		ti.refs[t]++
		if ti.refs[t] > 1 {
			continue
		}
		for _, g := range trigramsOf(t) {
			set := ti.trigrams[g]
			if set == nil {
				set = map[string]struct{}{}
				ti.trigrams[g] = set
			}
			set[t] = struct{}{}
		}
	}
}

func (ti *tokenIndex) remove(tokens []string) {
	for _, t := range tokens {
		ti.refs[t]--
		if ti.refs[t] > 0 {
			continue
		}
		delete(ti.refs, t)
		for _, g := range trigramsOf(t) {
			if set := ti.trigrams[g]; set != nil {
				delete(set, t)
				if len(set) == 0 {
					delete(ti.trigrams, g)
				}
			}
		}
	}
}

// trigramsOf returns the trigrams of "  t " (padded so that short words
// and first letters count).
func trigramsOf(t string) []string {
	r := []rune("  " + t + " ")
	out := make([]string, 0, len(r)-2)
	for i := 0; i+3 <= len(r); i++ {
		out = append(out, string(r[i:i+3]))
	}
	return out
}

// Scores of a match, summed over the query's words: exact matches of
// MRN, phone or email rank first, then exact name words, prefixes
// (type-ahead), and typos (fewer edits rank higher).
const (
	scoreIdentifier = 1000
	scoreExact      = 100
	scorePrefix     = 60
	scoreFuzzy      = 40 // minus 10 per edit
)

// tolerance is the number of edits allowed for a query word of n letters.
func tolerance(n int) int {
	switch {
	case n <= 3:
		return 0
	case n <= 7:
		return 1
	default:
		return 2
	}
}

// nameMatches returns the dictionary tokens a query word matches, with
// their scores.
func (ti *tokenIndex) nameMatches(word string) map[string]int {
	out := map[string]int{}
	if _, ok := ti.refs[word]; ok {
		out[word] = scoreExact
	}
	n := utf8.RuneCountInString(word)
	tol := tolerance(n)
	seen := map[string]struct{}{}
	for _, g := range trigramsOf(word) {
		for t := range ti.trigrams[g] {
			if _, done := seen[t]; done {
				continue
			}
			seen[t] = struct{}{}
			if t == word {
				continue
			}
			if n >= 2 && strings.HasPrefix(t, word) {
				out[t] = scorePrefix
				continue
			}
			if tol == 0 {
				continue
			}
			if d := damerauLevenshtein(word, t, tol); d <= tol {
				out[t] = scoreFuzzy - 10*d
			} else if m := utf8.RuneCountInString(t); m > n {
				// A typo in a prefix being typed: "smtih" -> "smithson".
				if d := damerauLevenshtein(word, string([]rune(t)[:n]), tol); d <= tol {
					out[t] = scoreFuzzy - 10*d - 5
				}
			}
		}
	}
	return out
}

// damerauLevenshtein returns the optimal-string-alignment distance of a
// and b, or max+1 as soon as it must exceed max (textmatch.Distance).
func damerauLevenshtein(a, b string, max int) int { return textmatch.Distance(a, b, max) }

// query is a parsed free-text search.
type query struct {
	words []queryWord
}

type queryWord struct {
	text     string // folded
	hasDigit bool
	hasAt    bool
	digits   string         // digits of the word when it looks like a phone number part
	names    map[string]int // matching name tokens -> score
	noEmail  bool           // no patient's e-mail contains text (see state.markEmailWords)
}

// emailBlob is every entry's folded e-mail, NUL-separated: one substring
// search over it tells whether a query word can match any e-mail at all
// (a typo never does), so the per-patient pass can skip that check. It
// is built on first use after a change (readers share the lock, hence
// the atomic).
func (st *state) emailBlob() string {
	if b := st.emails.Load(); b != nil {
		return *b
	}
	var sb strings.Builder
	for _, e := range st.views[sortMRN] {
		sb.WriteString(e.email)
		sb.WriteByte(0)
	}
	b := sb.String()
	st.emails.Store(&b)
	return b
}

// markEmailWords flags the words of q no e-mail contains.
func (st *state) markEmailWords(q *query) {
	for i := range q.words {
		w := &q.words[i]
		w.noEmail = !strings.Contains(st.emailBlob(), w.text)
	}
}

// parseQuery splits q into words and resolves each word's name matches
// against the dictionary. A q made only of phone characters is one word.
func (ti *tokenIndex) parseQuery(q string) query {
	q = strings.TrimSpace(q)
	var words []string
	if phonePattern.MatchString(q) && len(digitsOf(q)) >= 3 {
		words = []string{q}
	} else {
		words = strings.Fields(q)
	}
	var out query
	for _, w := range words {
		f := fold(w)
		qw := queryWord{text: f, hasDigit: strings.ContainsAny(f, "0123456789"), hasAt: strings.Contains(f, "@")}
		if d := digitsOf(w); len(d) >= 3 && phonePattern.MatchString(w) {
			qw.digits = d
		}
		for _, t := range nameTokens(w) {
			for tok, s := range ti.nameMatches(t) {
				if s > qw.names[tok] {
					if qw.names == nil {
						qw.names = map[string]int{}
					}
					qw.names[tok] = s
				}
			}
		}
		out.words = append(out.words, qw)
	}
	return out
}

// score returns how well e matches the query; 0 means no match (every
// word must match something).
func (q query) score(e *entry) int {
	total := 0
	for _, w := range q.words {
		best := 0
		switch {
		case w.text == e.mrn || (w.hasDigit && len(w.text) >= 3 && strings.Contains(e.mrn, w.text)):
			best = scoreIdentifier
		case w.digits != "" && strings.Contains(e.phone, w.digits):
			best = scoreIdentifier
		case w.noEmail:
		case w.hasAt && strings.Contains(e.email, w.text):
			best = scoreIdentifier
		case len(w.text) >= 3 && strings.Contains(e.email, w.text):
			best = scorePrefix
		}
		{
			for _, t := range e.tokens {
				if s := w.names[t]; s > best {
					best = s
				}
			}
		}
		if best == 0 {
			return 0
		}
		total += best
	}
	return total
}
