package nlu

import "strconv"

var units = map[string]int{
	"zero": 0, "one": 1, "a": 1, "an": 1, "single": 1, "two": 2, "couple": 2, "three": 3, "few": 3, "four": 4, "five": 5,
	"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "dozen": 12,
	"thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
	"nineteen": 19, "fortnight": 14,
}

var tens = map[string]int{
	"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

// NumberAt reads a number starting at word i of ws: digits ("30"), words
// ("thirty", "thirty five", "twenty-one" split as two words, "a hundred",
// "a dozen", "a couple of") and ordinals in digits ("5th"). It returns the
// value and how many words it used; n is 0 when there is no number at i.
// "a"/"an" alone are not numbers (only before hundred, dozen or couple).
func NumberAt(ws []string, i int) (value, n int) {
	if i < 0 || i >= len(ws) {
		return 0, 0
	}
	w := ws[i]
	if v, err := strconv.Atoi(trimOrdinal(w)); err == nil {
		return v, 1
	}
	if w == "a" || w == "an" {
		if i+1 < len(ws) {
			switch ws[i+1] {
			case "hundred":
				return 100, 2
			case "dozen", "couple", "few", "fortnight":
				v, k := NumberAt(ws, i+1)
				return v, k + 1
			}
		}
		return 0, 0
	}
	if v, ok := tens[w]; ok {
		if i+1 < len(ws) {
			if u, ok := units[ws[i+1]]; ok && u > 0 && u < 10 && ws[i+1] != "a" && ws[i+1] != "an" {
				return v + u, 2
			}
		}
		return v, 1
	}
	if v, ok := units[w]; ok {
		if i+1 < len(ws) && ws[i+1] == "hundred" {
			return v * 100, 2
		}
		if w == "couple" && i+1 < len(ws) && ws[i+1] == "of" {
			return v, 2
		}
		return v, 1
	}
	if w == "hundred" {
		return 100, 1
	}
	return 0, 0
}

// trimOrdinal strips an English ordinal suffix from digits ("5th" -> "5").
func trimOrdinal(w string) string {
	if len(w) > 2 {
		switch w[len(w)-2:] {
		case "st", "nd", "rd", "th":
			if w[len(w)-3] >= '0' && w[len(w)-3] <= '9' {
				return w[:len(w)-2]
			}
		}
	}
	return w
}
