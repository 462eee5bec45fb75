package patient

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
)

// DuplicateThreshold is the score from which a candidate counts as a
// likely duplicate: an interactive create is stopped with a warning and
// an import record goes to review. It is reached by a name one letter
// apart with the same birth date (0.18+0.20+0.30), or the same full name
// with the same phone or e-mail, but not by the same name alone (0.45),
// nor by a shared birth date and address alone (0.40).
const DuplicateThreshold = 0.6

// Weights of the evidence the scorer sums (a score is capped at 1).
const (
	weightSameLast      = 0.25
	weightLastOneOff    = 0.18
	weightLastSimilar   = 0.10
	weightSameFirst     = 0.20
	weightFirstOneOff   = 0.14
	weightFirstPrefix   = 0.10
	weightNamesSwapped  = 0.35
	weightSameDOB       = 0.30
	weightDOBSwapped    = 0.15
	weightDOBOneDigit   = 0.10
	weightSamePhone     = 0.20
	weightSameEmail     = 0.20
	weightSameAddress   = 0.10
	weightSameSex       = 0.05
	penaltyDifferentSex = 0.20
	penaltyDifferentDOB = 0.20
)

// Reason codes of a Candidate: what matched, never the values.
const (
	ReasonSameLastName      = "same_last_name"
	ReasonLastNameOneOff    = "last_name_one_letter_apart"
	ReasonLastNameSimilar   = "last_name_similar"
	ReasonSameFirstName     = "same_first_name"
	ReasonFirstNameOneOff   = "first_name_one_letter_apart"
	ReasonFirstNamePrefix   = "first_name_prefix"
	ReasonNamesSwapped      = "names_swapped"
	ReasonSameBirthDate     = "same_birth_date"
	ReasonBirthDateSwapped  = "birth_date_day_month_swapped"
	ReasonBirthDateOneDigit = "birth_date_one_digit_apart"
	ReasonDifferentDOB      = "different_birth_date"
	ReasonSamePhone         = "same_phone"
	ReasonSameEmail         = "same_email"
	ReasonSameAddress       = "same_address"
	ReasonSameSex           = "same_sex"
	ReasonDifferentSex      = "different_sex"
)

// Candidate is an existing patient that may be the same person as some
// demographics: its id, a score in [0,1] and the PHI-free reason codes.
type Candidate struct {
	ID      string   `json:"id"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons"`
}

// Candidates returns the patients of the directory scoring at least
// DuplicateThreshold against in, best first, at most limit (limit <= 0:
// 10). The scan is over the in-memory directory's blocks (matchIndex:
// only patients with strong evidence are scored); the read is audited
// with the count only.
func (s *Service) Candidates(ctx context.Context, in Input, limit int) ([]Candidate, error) {
	const action = "patient.candidates"
	if err := s.authorize(ctx, action, "patient", "", false); err != nil {
		return nil, err
	}
	out := s.visibleCandidates(ctx, s.candidates(in, limit))
	if err := s.finish(ctx, action, "patient", "", fmt.Sprintf("results=%d", len(out)), nil); err != nil {
		return nil, err
	}
	return out, nil
}

// candidates is Candidates without the audit (for callers that audit
// their own action, such as Create).
func (s *Service) candidates(in Input, limit int) []Candidate {
	if limit <= 0 {
		limit = 10
	}
	q := newProbe(in)
	var out []Candidate
	s.dir.read(func(st *state) {
		st.match.lookup(q, func(id string) {
			if e := st.byID[id]; e != nil {
				if c, ok := q.score(e); ok {
					out = append(out, c)
				}
			}
		})
	})
	slices.SortFunc(out, func(a, b Candidate) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// ScoreAgainst scores in against one held patient (0 and no reasons when
// there is no such patient). The importer uses it to tell whether a
// document matched by identifier is really the same person.
func (s *Service) ScoreAgainst(in Input, id string) Candidate {
	q := newProbe(in)
	c := Candidate{ID: id, Reasons: []string{}}
	s.dir.read(func(st *state) {
		if e := st.byID[id]; e != nil {
			c = q.evaluate(e)
		}
	})
	return c
}

// probe is the folded form of the demographics being matched.
type probe struct {
	first, last string
	dob         string
	sex         string
	phone       string
	email       string
	line1, zip  string
}

func newProbe(in Input) probe {
	return probe{
		first: nameKey(in.FirstName), last: nameKey(in.LastName), dob: strings.TrimSpace(in.DateOfBirth),
		sex: knownSex(in.Sex), phone: phoneKey(in.Phone), email: fold(strings.TrimSpace(in.Email)),
		line1: nameKey(in.Address.Line1), zip: strings.TrimSpace(in.Address.PostalCode),
	}
}

// nameKey folds a name to letters and digits only ("O'Brien-Smith" ->
// "obriensmith"), so punctuation and accents never make a difference.
func nameKey(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, fold(s))
}

// phoneKey is the last ten digits of a phone number (a country prefix
// does not make another number), or "" when it has fewer than seven.
func phoneKey(s string) string {
	d := digitsOf(s)
	if len(d) < 7 {
		return ""
	}
	if len(d) > 10 {
		d = d[len(d)-10:]
	}
	return d
}

func knownSex(s string) string {
	if s == "female" || s == "male" {
		return s
	}
	return ""
}

// score returns e as a candidate when it reaches the threshold.
func (q probe) score(e *entry) (Candidate, bool) {
	// Cheap pre-check: without any strong evidence the threshold is out
	// of reach, so most of the directory costs a few comparisons.
	p := e.p
	strong := (q.dob != "" && q.dob == p.DateOfBirth) ||
		(q.phone != "" && q.phone == phoneKey(p.Phone)) ||
		(q.email != "" && q.email == e.email) ||
		(q.last != "" && nameClose(q.last, nameKey(p.LastName))) ||
		(q.last != "" && q.last == nameKey(p.FirstName))
	if !strong {
		return Candidate{}, false
	}
	c := q.evaluate(e)
	return c, c.Score >= DuplicateThreshold
}

// nameClose reports whether two name keys are at most two edits apart.
func nameClose(a, b string) bool {
	return a == b || damerauLevenshtein(a, b, 2) <= 2
}

// evaluate sums the evidence that q and e are the same person.
func (q probe) evaluate(e *entry) Candidate {
	p := e.p
	var score float64
	reasons := []string{}
	add := func(w float64, reason string) {
		score += w
		reasons = append(reasons, reason)
	}
	last, first := nameKey(p.LastName), nameKey(p.FirstName)
	switch {
	case q.last != "" && q.first != "" && q.last == first && q.first == last && q.first != q.last:
		add(weightNamesSwapped, ReasonNamesSwapped)
	default:
		if w, r := nameEvidence(q.last, last, weightSameLast, weightLastOneOff, weightLastSimilar, ReasonSameLastName, ReasonLastNameOneOff, ReasonLastNameSimilar); w > 0 {
			add(w, r)
		}
		switch {
		case q.first == "" || first == "":
		case q.first == first || nameKey(p.PreferredName) == q.first:
			add(weightSameFirst, ReasonSameFirstName)
		case oneEditApart(q.first, first):
			add(weightFirstOneOff, ReasonFirstNameOneOff)
		case len(q.first) >= 3 && len(first) >= 3 && (strings.HasPrefix(first, q.first) || strings.HasPrefix(q.first, first)):
			add(weightFirstPrefix, ReasonFirstNamePrefix)
		}
	}
	if q.dob != "" && p.DateOfBirth != "" {
		switch {
		case q.dob == p.DateOfBirth:
			add(weightSameDOB, ReasonSameBirthDate)
		case dayMonthSwapped(q.dob, p.DateOfBirth):
			add(weightDOBSwapped, ReasonBirthDateSwapped)
		case oneDigitApart(q.dob, p.DateOfBirth):
			add(weightDOBOneDigit, ReasonBirthDateOneDigit)
		default:
			add(-penaltyDifferentDOB, ReasonDifferentDOB)
		}
	}
	if ps := knownSex(p.Sex); q.sex != "" && ps != "" {
		if q.sex == ps {
			add(weightSameSex, ReasonSameSex)
		} else {
			add(-penaltyDifferentSex, ReasonDifferentSex)
		}
	}
	if q.phone != "" && q.phone == phoneKey(p.Phone) {
		add(weightSamePhone, ReasonSamePhone)
	}
	if q.email != "" && q.email == e.email {
		add(weightSameEmail, ReasonSameEmail)
	}
	if q.line1 != "" && q.line1 == nameKey(p.Address.Line1) && (q.zip == "" || p.Address.PostalCode == "" || q.zip == p.Address.PostalCode) {
		add(weightSameAddress, ReasonSameAddress)
	}
	score = min(max(score, 0), 1)
	return Candidate{ID: p.ID, Score: float64(int(score*100+0.5)) / 100, Reasons: reasons}
}

// nameEvidence grades two name keys: equal, one edit apart, or (for
// names of eight letters or more) two edits apart.
func nameEvidence(a, b string, same, oneOff, similar float64, rSame, rOneOff, rSimilar string) (float64, string) {
	switch {
	case a == "" || b == "":
		return 0, ""
	case a == b:
		return same, rSame
	case oneEditApart(a, b):
		return oneOff, rOneOff
	case utf8.RuneCountInString(a) >= 8 && damerauLevenshtein(a, b, 2) <= 2:
		return similar, rSimilar
	}
	return 0, ""
}

// oneEditApart reports whether a and b (both of four letters or more:
// short names differ by a letter too often) are one edit apart, using
// the search's Damerau-Levenshtein distance.
func oneEditApart(a, b string) bool {
	return utf8.RuneCountInString(a) >= 4 && utf8.RuneCountInString(b) >= 4 && damerauLevenshtein(a, b, 1) == 1
}

// dayMonthSwapped reports whether two YYYY-MM-DD dates differ only by
// day and month being swapped (a US/European entry mix-up).
func dayMonthSwapped(a, b string) bool {
	return len(a) == 10 && len(b) == 10 && a[:4] == b[:4] && a[5:7] == b[8:10] && a[8:10] == b[5:7]
}

// oneDigitApart reports whether two dates of the same shape differ in
// exactly one digit (a typo).
func oneDigitApart(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	diff := 0
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			diff++
		}
	}
	return diff == 1
}

// ErrLikelyDuplicate: an interactive create looks like a patient we
// have (409); the error is a *DuplicateError with the candidates.
var ErrLikelyDuplicate = fault.New(fault.ErrConflict, "this looks like a patient who is already registered; check the candidates, or confirm to create the patient anyway")

// DuplicateError carries the candidates of a refused create.
type DuplicateError struct {
	Candidates []Candidate
}

func (e *DuplicateError) Error() string { return ErrLikelyDuplicate.Error() }

// Unwrap makes a DuplicateError an ErrLikelyDuplicate.
func (e *DuplicateError) Unwrap() error { return ErrLikelyDuplicate }

// CreateChecked is Create for people typing a new patient in (the API
// and the form): when the data scores as a likely duplicate and confirm
// is false it refuses with a *DuplicateError; with confirm it creates
// the patient and the audit event says the warning was overridden.
// Seeding and imports call Create (imports have their own review).
func (s *Service) CreateChecked(ctx context.Context, in Input, confirm bool) (*Patient, error) {
	const action = "patient.create"
	if err := s.authorize(ctx, action, "patient", "", false); err != nil {
		return nil, err
	}
	// Bad input is named first: a form with an impossible date must say
	// which field is wrong, not that the person may already exist.
	if err := s.precheck(ctx, in); err != nil {
		return nil, s.finish(ctx, action, "patient", "", "", err)
	}
	cands := s.visibleCandidates(ctx, s.candidates(in, 10))
	if len(cands) > 0 && !confirm {
		err := fmt.Errorf("create patient: %w", &DuplicateError{Candidates: cands})
		if aerr := s.record(ctx, action, "patient", "", audit.OutcomeFailure, fmt.Sprintf("likely_duplicate candidates=%d", len(cands))); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	p, err := s.create(ctx, in)
	id, detail := "", ""
	if p != nil {
		id = p.ID
	}
	if len(cands) > 0 {
		detail = fmt.Sprintf("confirm_duplicate candidates=%d", len(cands))
	}
	if err := s.finish(ctx, action, "patient", id, detail, err); err != nil {
		return nil, err
	}
	s.notify(ctx, Committed{Action: CommittedCreate, PatientID: p.ID, Version: p.Version})
	return p.clone(), nil
}
