package nlu

import (
	"strings"
	"unicode"

	"github.com/pfinni/pfinni/internal/textmatch"
)

// Words splits a message into folded words (textmatch.Fold, the folding
// the core uses too). Letters and digits make up
// words; an apostrophe inside a word is dropped together with a
// possessive "s" ("smith's" -> "smith", "o'brien" -> "obrien"); a hyphen
// or slash between digits is kept ("2025-03-01", "3/14"); everything else
// separates words.
func Words(s string) []string {
	rs := []rune(textmatch.Fold(s))
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, r)
		case (r == '\'' || r == '\u2019') && len(cur) > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			// possessive 's: drop both; inner apostrophe: drop it
			if rs[i+1] == 's' && (i+2 == len(rs) || !unicode.IsLetter(rs[i+2])) {
				i++
			}
		case (r == '-' || r == '/' || r == '.') && len(cur) > 0 && unicode.IsDigit(cur[len(cur)-1]) && i+1 < len(rs) && unicode.IsDigit(rs[i+1]):
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// Message is a chat message prepared for matching: its folded words as
// typed (Raw) and the same words with typos of known keywords corrected
// (Norm). Both slices have the same length and positions.
type Message struct {
	Raw  []string
	Norm []string
	// Orig is the message as typed.
	Orig string
}

// Parse prepares msg: it splits it into words and corrects each word
// that is within typo distance of exactly one keyword of the built-in
// lexicon (see Lexicon) to that keyword.
func Parse(msg string) Message {
	raw := Words(msg)
	norm := make([]string, len(raw))
	for i, w := range raw {
		norm[i] = correct(w)
	}
	return Message{Raw: raw, Norm: norm, Orig: msg}
}

// Has reports whether any of words appears in m (corrected form).
func (m Message) Has(words ...string) bool {
	for _, w := range m.Norm {
		for _, x := range words {
			if w == x {
				return true
			}
		}
	}
	return false
}

// HasPhrase reports whether the phrase (space-separated words) appears
// in m as consecutive corrected words.
func (m Message) HasPhrase(phrase string) bool {
	return m.Index(phrase) >= 0
}

// Index returns the position of the first word of phrase in m, or -1.
func (m Message) Index(phrase string) int {
	p := strings.Fields(phrase)
	if len(p) == 0 {
		return -1
	}
	for i := 0; i+len(p) <= len(m.Norm); i++ {
		ok := true
		for j, w := range p {
			if m.Norm[i+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

// AnyPhrase reports whether any of the phrases appears in m.
func (m Message) AnyPhrase(phrases ...string) bool {
	for _, p := range phrases {
		if m.HasPhrase(p) {
			return true
		}
	}
	return false
}

// Text returns the corrected words joined by single spaces.
func (m Message) Text() string { return strings.Join(m.Norm, " ") }

// Len is the number of words.
func (m Message) Len() int { return len(m.Norm) }

func splitPhrase(p string) []string { return strings.Fields(p) }
