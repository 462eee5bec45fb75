package textmatch

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		max  int
		want int
	}{
		{"smith", "smith", 2, 0}, {"smith", "smtih", 2, 1}, {"smith", "smiths", 2, 1}, {"smith", "mith", 2, 1},
		{"smyth", "smith", 2, 1}, {"jonh", "john", 2, 1},
		{"kitten", "sitting", 3, 3}, {"kitten", "sitting", 5, 3}, {"a", "abcdef", 2, 3}, {"abcdef", "ghijkl", 2, 3}, {"", "ab", 2, 2},
		{"josé", "jose", 1, 1}, {"josé", "jsoé", 2, 1}, {"zoë", "zoëy", 0, 1},
	} {
		assert.Equal(t, tc.want, Distance(tc.a, tc.b, tc.max), "%s/%s", tc.a, tc.b)
	}
}

func TestSimilarAndTolerance(t *testing.T) {
	assert.True(t, Similar("seatle", "seattle"))
	assert.True(t, Similar("cat", "cat"))
	assert.False(t, Similar("cat", "car"))
	assert.True(t, Similar("jonh", "john"))
	for n, want := range map[int]int{0: 0, 3: 0, 4: 1, 5: 1, 6: 2, 9: 2} {
		assert.Equal(t, want, Tolerance(n), "Tolerance(%d)", n)
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"José": "jose", "Schröder": "schroder", "ANN": "ann", "Straße": "strasse", "Søren": "soren",
		"Łódź": "lodz", "Œuvre": "oeuvre", "Jose\u0301": "jose", "Ñuñez": "nunez", "": "", "O'Brien": "o'brien",
	} {
		assert.Equal(t, want, Fold(in), "Fold(%q)", in)
	}
}

// FuzzDistance: the allocation-free ASCII path agrees with the general one.
func FuzzDistance(f *testing.F) {
	f.Add("smith", "smtih", 2)
	f.Add("kitten", "sitting", 3)
	f.Fuzz(func(t *testing.T, a, b string, max int) {
		if !isASCII(a) || !isASCII(b) || len(a) >= 32 || len(b) >= 32 || max < 0 || max > 40 {
			return
		}
		// A shared non-ASCII suffix forces the general path.
		if got, want := Distance(a, b, max), Distance(a+"\u00e9", b+"\u00e9", max); got != want {
			t.Fatalf("Distance(%q,%q,%d) = %d, want %d", a, b, max, got, want)
		}
	})
}

func BenchmarkDistanceASCII(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Distance("seatle", "seattle", 2)
	}
}

func BenchmarkFold(b *testing.B) {
	for b.Loop() {
		Fold("Zoë Schröder-Łukasiewicz")
	}
}
