package patient

import (
	"context"
	"slices"
	"strings"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
)

// The assistant's view of the directory (core/chat): the words it
// matches entities against and the name list its history scrubber uses.
// Both are answered from the in-memory directory in microseconds; the
// assistant no longer pages the whole directory to build them.

// ErrDirectoryReloading: the directory is being reloaded (after a
// reconnect) and may be missing changes, so it cannot vouch that a word
// is not a patient's name. Callers that scrub must fail closed.
var ErrDirectoryReloading = fault.New(fault.ErrUnavailable, "the patient directory is reloading")

// Vocabulary is what the assistant's entity matching needs of the
// directory: the providers and the distinct cities of patients'
// addresses. It holds no patient record.
type Vocabulary struct {
	// Generation identifies the directory state it was built from; it
	// changes with every change to the directory.
	Generation uint64
	Providers  []Provider // by name
	Cities     []string   // distinct, as first written, sorted
}

// Vocabulary returns the directory's vocabulary. When known is the
// Generation of a vocabulary the caller already holds and the directory
// has not changed since, it returns just {Generation: known} and
// fresh=false without building anything; otherwise fresh is true.
//
// Admins, staff and the system may call it. It is not audited: it
// discloses no patient record, only provider names and a set of cities
// (the per-question reads that use it are audited as the user).
func (s *Service) Vocabulary(ctx context.Context, known uint64) (v Vocabulary, fresh bool, err error) {
	if err := vocabularyCaller(ctx); err != nil {
		return Vocabulary{}, false, err
	}
	s.dir.readGen(func(st *state, gen uint64) {
		v.Generation = gen
		if gen == known {
			return
		}
		fresh = true
		cities := map[string]string{}
		for _, e := range st.byID {
			if e.city != "" {
				// One spelling per folded city, the same whatever the
				// map's order: the smallest ("Springfield" before
				// "springfield").
				name := strings.TrimSpace(e.p.Address.City)
				if cur, ok := cities[e.city]; !ok || name < cur {
					cities[e.city] = name
				}
			}
		}
		v.Cities = make([]string, 0, len(cities))
		for _, c := range cities {
			v.Cities = append(v.Cities, c)
		}
		slices.Sort(v.Cities)
		v.Providers = make([]Provider, 0, len(st.providers))
		for _, p := range st.providers {
			v.Providers = append(v.Providers, *p)
		}
		slices.SortFunc(v.Providers, func(a, b Provider) int {
			if c := strings.Compare(fold(a.Name), fold(b.Name)); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
	})
	return v, fresh, nil
}

// NameWords reports, for each of words, whether a patient in the
// directory has it as a name word or as an MRN. Name words are compared
// folded (case, accents and apostrophes ignored: "O'Brien" is
// "obrien"), MRNs as typed, upper- or lower-cased; both exactly: a caller that keeps only known everyday words and
// asks about those needs no typo tolerance.
//
// The answer covers every change made on this instance (writes update the
// directory before they return) and, through the live queries, other
// instances' writes as they arrive. While the directory reloads it
// returns ErrDirectoryReloading. Admins, staff and the system may call
// it; it is not audited (it answers yes or no about words the caller
// already has, and reveals no record).
func (s *Service) NameWords(ctx context.Context, words []string) ([]bool, error) {
	if err := vocabularyCaller(ctx); err != nil {
		return nil, err
	}
	out := make([]bool, len(words))
	reloading := false
	s.dir.read(func(st *state) {
		if s.dir.reloading > 0 {
			reloading = true
			return
		}
		for i, w := range words {
			toks := nameTokens(w)
			for _, t := range toks {
				if st.tokens.refs[t] > 0 {
					out[i] = true
				}
			}
			for _, mrn := range []string{w, strings.ToUpper(w), strings.ToLower(w)} {
				if st.byMRN[mrn] != "" {
					out[i] = true
				}
			}
		}
	})
	if reloading {
		return nil, ErrDirectoryReloading
	}
	return out, nil
}

// vocabularyCaller admits the roles that may read patients.
func vocabularyCaller(ctx context.Context) error {
	a := actor.From(ctx)
	switch {
	case a.Anonymous():
		return ErrNotSignedIn
	case !allowed(a.Role):
		return ErrNotAllowed
	}
	return nil
}
