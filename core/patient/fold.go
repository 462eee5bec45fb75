package patient

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// fold lowercases s and strips diacritics ("José" -> "jose"), so search
// and sorting ignore case and accents.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

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
