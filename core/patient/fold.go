package patient

import (
	"strings"
	"unicode"

	"github.com/pfinni/pfinni/internal/textmatch"
)

// fold lowercases s and strips diacritics ("José" -> "jose"), so search
// and sorting ignore case and accents: textmatch.Fold, the folding the
// intent plugins use too.
func fold(s string) string { return textmatch.Fold(s) }

// nameTokens splits folded names into search tokens: words split at
// spaces and hyphens, apostrophes and dots dropped ("O'Brien-Smith" ->
// "obrien", "smith"), plus the joined form of hyphenated names.
func nameTokens(names ...string) []string {
	var out []string
	add := func(t string) {
		if t != "" && !contains(out, t) {
			out = append(out, t)
		}
	}
	for _, n := range names {
		for _, word := range strings.Fields(fold(n)) {
			word = strings.Map(func(r rune) rune {
				if r == '\'' || r == '.' || r == '\u2019' || r == ',' {
					return -1
				}
				return r
			}, word)
			parts := strings.FieldsFunc(word, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
			for _, p := range parts {
				add(p)
			}
			if len(parts) > 1 {
				add(strings.Join(parts, ""))
			}
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
