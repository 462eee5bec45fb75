package nlu

import (
	"strings"

	"github.com/pfinni/pfinni/internal/textmatch"
)

// Term is one entry of a vocabulary the host provides: a provider (ID is
// its record id), a city (ID may equal Name), ...
type Term struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Vocabulary matches phrases against known terms with typo tolerance.
// Build it once per request with NewVocabulary; it is read-only after.
type Vocabulary struct {
	terms  []Term
	full   [][]string // folded words of each name
	tokens [][]string // the distinctive words (titles dropped)
}

// titles are dropped from names before matching ("Dr. Ana Ruiz, MD").
var titles = words(`dr doctor prof md do np pa rn mr mrs ms miss dds phd jr sr ii iii`)

// NewVocabulary indexes terms.
func NewVocabulary(terms []Term) *Vocabulary {
	v := &Vocabulary{terms: terms}
	for _, t := range terms {
		ws := Words(t.Name)
		v.full = append(v.full, ws)
		var toks []string
		for _, w := range ws {
			if !titles[w] && len(w) > 1 {
				toks = append(toks, w)
			}
		}
		v.tokens = append(v.tokens, toks)
	}
	return v
}

// Len is the number of terms.
func (v *Vocabulary) Len() int {
	if v == nil {
		return 0
	}
	return len(v.terms)
}

// Match is a term found in a message.
type Match struct {
	Term       Term
	Score      float64 // 1 exact full name ... 0.6 one word with typos
	Start, End int     // word span in the message
	// Ambiguous is set when another term matched equally well (two
	// providers named Chen); Term is then the first of them.
	Ambiguous bool
}

// Lookup matches phrase as a whole against the vocabulary.
func (v *Vocabulary) Lookup(phrase string) (Match, bool) {
	ws := Words(phrase)
	return v.best(ws, 0, len(ws))
}

// scoreWords compares typed words with a term's words.
func scoreWords(typed, name, toks []string) float64 {
	if len(typed) == 0 {
		return 0
	}
	if equalWords(typed, name) {
		return 1
	}
	if equalWords(typed, toks) && len(toks) > 0 {
		return 0.98
	}
	// every typed word must match a distinct term word, exactly or with typos
	exact, fuzzy := 0, 0
	usedTok := make([]bool, len(toks))
	for _, w := range typed {
		if titles[w] {
			continue
		}
		found := false
		for j, t := range toks {
			if !usedTok[j] && w == t {
				usedTok[j], found = true, true
				exact++
				break
			}
		}
		if found {
			continue
		}
		for j, t := range toks {
			if !usedTok[j] && len(w) >= 4 && textmatch.Similar(w, t) {
				usedTok[j], found = true, true
				fuzzy++
				break
			}
		}
		if !found {
			return 0
		}
	}
	n := exact + fuzzy
	if n == 0 {
		return 0
	}
	s := 0.6 + 0.3*float64(n)/float64(len(toks)) - 0.05*float64(fuzzy)
	if n == len(toks) && fuzzy > 0 {
		s = 0.9
	}
	return s
}

func equalWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (v *Vocabulary) best(ws []string, start, end int) (Match, bool) {
	if v == nil || start >= end {
		return Match{}, false
	}
	typed := ws[start:end]
	best := Match{Start: start, End: end}
	for i, t := range v.terms {
		s := scoreWords(typed, v.full[i], v.tokens[i])
		switch {
		case s > best.Score:
			best.Term, best.Score, best.Ambiguous = t, s, false
		case s == best.Score && s > 0 && t.ID != best.Term.ID:
			best.Ambiguous = true
		}
	}
	return best, best.Score > 0
}

// Find looks for a term in the words of m not yet used, trying phrases of
// up to 4 words; it prefers the highest score, then the longest phrase.
// A phrase made only of keywords or common words is never a term, unless
// it spells a term exactly. accept, if set, vets each candidate span.
func (v *Vocabulary) Find(m Message, used []bool, accept func(start, end int) bool) (Match, bool) {
	if v.Len() == 0 {
		return Match{}, false
	}
	var best Match
	for n := 4; n >= 1; n-- {
		for i := 0; i+n <= m.Len(); i++ {
			if used != nil && anyTaken(used, i, n) {
				continue
			}
			allKnown := true
			for _, w := range m.Raw[i : i+n] {
				if !Known(w) && !titles[w] && !isNumber(w) {
					allKnown = false
				}
			}
			mt, ok := v.best(m.Raw, i, i+n)
			if !ok || (allKnown && mt.Score < 1) || (titles[m.Raw[i]] && n == 1) {
				continue
			}
			if accept != nil && !accept(i, i+n) {
				continue
			}
			if mt.Score > best.Score || (mt.Score == best.Score && mt.End-mt.Start > best.End-best.Start) {
				best = mt
			}
		}
	}
	return best, best.Score > 0
}

// Phrase returns the raw words of m in [start, end) joined by spaces.
func (m Message) Phrase(start, end int) string {
	if start < 0 {
		start = 0
	}
	if end > m.Len() {
		end = m.Len()
	}
	if start >= end {
		return ""
	}
	return strings.Join(m.Raw[start:end], " ")
}
