package importer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/pfinni/pfinni/core/patient"
)

// conflicts returns the identity fields in which a record differs from
// the patient that already holds its identifier, when the difference looks like
// another person rather than a correction: a different date of birth
// (a partial date that agrees as far as it goes is no difference), or at
// least two of first name, last name and sex differing. One of those
// alone (a married name, a corrected first name or sex) is an update.
// Conflicting data is never applied: pfinni does not guess which of two
// people an identifier belongs to; the record goes to review
// (identity.go).
func conflicts(p *patient.Patient, in patient.Input) []string {
	var out []string
	if in.DateOfBirth != "" && p.DateOfBirth != "" && !datesAgree(p.DateOfBirth, in.DateOfBirth) {
		out = append(out, "date of birth")
	}
	var names []string
	if in.FirstName != "" && !namesAgree(p.FirstName, in.FirstName) {
		names = append(names, "first name")
	}
	if in.LastName != "" && !namesAgree(p.LastName, in.LastName) {
		names = append(names, "last name")
	}
	if known(in.Sex) && known(p.Sex) && in.Sex != p.Sex {
		names = append(names, "sex")
	}
	if len(names) >= 2 {
		out = append(out, names...)
	}
	return out
}

func joinAnd(ss []string) string {
	switch len(ss) {
	case 0:
		return ""
	case 1:
		return ss[0]
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " and " + ss[len(ss)-1]
}

func known(sex string) bool { return sex == "female" || sex == "male" }

// datesAgree reports whether two dates (YYYY, YYYY-MM or YYYY-MM-DD) can
// be the same day.
func datesAgree(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return strings.HasPrefix(b, a)
}

// namesAgree compares names without case, accents, punctuation or
// spacing; a name that is the first word of the other agrees ("Isabella"
// and "Isabella Grace").
func namesAgree(a, b string) bool {
	fa, fb := foldWords(a), foldWords(b)
	if len(fa) == 0 || len(fb) == 0 {
		return true
	}
	if strings.Join(fa, "") == strings.Join(fb, "") {
		return true
	}
	return fa[0] == fb[0] && (len(fa) == 1 || len(fb) == 1)
}

// foldWords lowercases s, strips accents and punctuation and splits it
// into words.
func foldWords(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(' ')
		}
	}
	return strings.Fields(b.String())
}
