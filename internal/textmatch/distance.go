package textmatch

import "unicode/utf8"

// Distance is the optimal-string-alignment (restricted Damerau-
// Levenshtein) distance between a and b, counting insertions, deletions,
// substitutions and transpositions of adjacent letters. It stops early
// and returns max+1 once the distance must exceed max. Short ASCII words
// (the common case: every unknown word against a keyword list, in WASM
// too) are compared without allocating.
func Distance(a, b string, max int) int {
	if len(a) < 32 && len(b) < 32 && isASCII(a) && isASCII(b) {
		var ab, bb [32]byte
		var r0, r1, r2 [32]int
		return osa(ab[:copy(ab[:], a)], bb[:copy(bb[:], b)], max, r0[:], r1[:], r2[:])
	}
	ra, rb := []rune(a), []rune(b)
	n := len(rb) + 1
	return osa(ra, rb, max, make([]int, n), make([]int, n), make([]int, n))
}

// osa computes Distance over letters a and b with three rows of at least
// len(b)+1 cells.
func osa[E byte | rune](a, b []E, max int, prev2, prev, cur []int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max + 1
	}
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], max+1)
}

// Tolerance is how many typos a word of n letters may carry and still
// match: none up to 3 letters, one up to 5, two from 6.
func Tolerance(n int) int {
	switch {
	case n <= 3:
		return 0
	case n <= 5:
		return 1
	default:
		return 2
	}
}

// Similar reports whether typed is within typo tolerance of want.
func Similar(typed, want string) bool {
	if typed == want {
		return true
	}
	n := min(utf8.RuneCountInString(typed), utf8.RuneCountInString(want))
	return Distance(typed, want, Tolerance(n)) <= Tolerance(n)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
