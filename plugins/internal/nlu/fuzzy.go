package nlu

// Distance is the optimal-string-alignment (restricted Damerau-
// Levenshtein) distance between a and b, counting insertions, deletions,
// substitutions and transpositions of adjacent letters. It stops early
// and returns max+1 once the distance must exceed max.
func Distance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
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
	return prev[len(rb)]
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
	n := min(len([]rune(typed)), len([]rune(want)))
	return Distance(typed, want, Tolerance(n)) <= Tolerance(n)
}
