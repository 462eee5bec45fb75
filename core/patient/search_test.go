package patient

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDamerauLevenshtein(t *testing.T) {
	cases := []struct {
		a, b string
		max  int
		want int
	}{
		{"john", "john", 2, 0},
		{"jonh", "john", 2, 1},
		{"smtih", "smith", 2, 1},
		{"smth", "smith", 2, 1},
		{"smiith", "smith", 2, 1},
		{"smyth", "smith", 2, 1},
		{"kitten", "sitting", 5, 3},
		{"abc", "xyzabc", 2, 3}, // length gap beyond max
		{"abcdef", "ghijkl", 2, 3},
		{"", "ab", 2, 2},
		{"josé", "jose", 1, 1},
	}
	for _, c := range cases {
		t.Run(c.a+"/"+c.b, func(t *testing.T) {
			assert.Equal(t, c.want, damerauLevenshtein(c.a, c.b, c.max))
		})
	}
}

func TestFoldAndTokens(t *testing.T) {
	assert.Equal(t, "jose", fold("José"))
	assert.Equal(t, "schroder", fold("Schröder"))
	assert.Equal(t, "ann", fold("ANN"))
	assert.Equal(t, []string{"obrien", "smith", "jones", "smithjones", "mary"}, nameTokens("O'Brien", "Smith-Jones", "  Mary "))
	assert.Equal(t, []string{"van", "der", "berg"}, nameTokens("Van der Berg"))
	assert.Nil(t, nameTokens("", " - "))
}

func TestTokenIndexAddRemove(t *testing.T) {
	ti := newTokenIndex()
	ti.add([]string{"john", "smith"})
	ti.add([]string{"john", "smyth"})
	assert.Equal(t, 2, ti.refs["john"])
	assert.Contains(t, ti.nameMatches("jonh"), "john")
	ti.remove([]string{"john", "smith"})
	assert.Equal(t, 1, ti.refs["john"])
	assert.NotContains(t, ti.trigrams["smi"], "smith")
	ti.remove([]string{"john", "smyth"})
	assert.Empty(t, ti.refs)
	assert.Empty(t, ti.trigrams)
}

func TestNameMatches(t *testing.T) {
	ti := newTokenIndex()
	ti.add([]string{"john", "johnson", "smith", "smithson", "jon", "ann", "anna", "joanna"})
	m := ti.nameMatches("john")
	assert.Equal(t, scoreExact, m["john"])
	assert.Equal(t, scorePrefix, m["johnson"])
	assert.Equal(t, scoreFuzzy-10, m["jon"], "one deletion")
	m = ti.nameMatches("smtih")
	assert.Equal(t, scoreFuzzy-10, m["smith"])
	assert.Equal(t, scoreFuzzy-15, m["smithson"], "typo in a prefix")
	m = ti.nameMatches("ann")
	assert.Equal(t, scoreExact, m["ann"])
	assert.Equal(t, scorePrefix, m["anna"])
	assert.NotContains(t, m, "joanna", "short words are not fuzzy")
}
