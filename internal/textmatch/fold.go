package textmatch

import (
	"sort"
	"strings"
	"unicode"
)

// Fold lowercases s and strips accents: "José" -> "jose", "Schröder" ->
// "schroder". Letters without a canonical decomposition that readers
// still take for an accented Latin letter fold too ("ø" -> "o", "ß" ->
// "ss", "æ" -> "ae", "ł" -> "l"). Combining marks are dropped.
func Fold(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if f, ok := folded(r); ok {
			b.WriteString(f)
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// folded looks r up in foldTable (sorted by rune).
func folded(r rune) (string, bool) {
	i := sort.Search(len(foldTable), func(i int) bool { return foldTable[i].r >= r })
	if i < len(foldTable) && foldTable[i].r == r {
		return foldTable[i].s, true
	}
	return "", false
}

// foldPair is one row of foldTable.
type foldPair struct {
	r rune
	s string
}
