package patient

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// IdentifierKey is the form in which two identifiers are compared: the
// system without case and without the "urn:oid:" prefix (C-CDA writes a
// bare OID root where FHIR writes urn:oid:), then the value as given.
// An identifier without a system has no key: a value alone never
// identifies anybody ("12345" from one system is not "12345" from
// another).
func IdentifierKey(id Identifier) string {
	sys := strings.ToLower(strings.TrimSpace(id.System))
	sys = strings.TrimPrefix(sys, "urn:oid:")
	val := strings.TrimSpace(id.Value)
	if sys == "" || val == "" {
		return ""
	}
	return sys + "|" + val
}

// Matchable reports whether any of ids can be matched on (has a system
// and a value).
func Matchable(ids []Identifier) bool {
	return slices.ContainsFunc(ids, func(id Identifier) bool { return IdentifierKey(id) != "" })
}

// FindByIdentifiers returns the patients holding at least one of ids,
// compared by (system, value) — never by the value alone — in id order.
// Identifiers without a system are ignored. The read is audited with the
// number of patients found.
func (s *Service) FindByIdentifiers(ctx context.Context, ids []Identifier) ([]*Patient, error) {
	const action = "patient.read"
	if err := s.authorize(ctx, action, "patient", "", false); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		if k := IdentifierKey(id); k != "" {
			want[k] = true
		}
	}
	var out []*Patient
	if len(want) > 0 {
		// A scan of the directory: a few thousand records with one to
		// four identifiers each, far below the cost of the import itself.
		s.dir.read(func(st *state) {
			for _, e := range st.byID {
				// A practice MRN (a CSV's chart number, a merged-away MRN)
				// also matches the patient whose MRN it is.
				if want[IdentifierKey(Identifier{System: MergedMRNSystem, Value: e.p.MRN})] ||
					slices.ContainsFunc(e.p.Identifiers, func(id Identifier) bool { return want[IdentifierKey(id)] }) {
					out = append(out, e.p.clone())
				}
			}
		})
	}
	slices.SortFunc(out, func(a, b *Patient) int { return strings.Compare(a.ID, b.ID) })
	if err := s.finish(ctx, action, "patient", "", fmt.Sprintf("by=identifier results=%d", len(out)), nil); err != nil {
		return nil, err
	}
	return out, nil
}

// GenerateMRN returns a practice MRN no patient holds: "PF-" and ten
// random characters, for records that bring no usable MRN of their own
// (an import without identifier, or whose number another system's
// patient already holds here).
func (s *Service) GenerateMRN() string {
	for {
		mrn := strings.ToUpper("PF-" + newID("")[:10])
		if !s.mrnTaken(mrn, "") {
			return mrn
		}
	}
}

// AddIdentifiers merges ids into have: an identifier already held (same
// key, or the same system-less value) is not added twice. It returns the
// merged list and whether anything was added.
func AddIdentifiers(have, ids []Identifier) ([]Identifier, bool) {
	out := slices.Clone(have)
	added := false
	for _, id := range ids {
		if strings.TrimSpace(id.Value) == "" {
			continue
		}
		k := IdentifierKey(id)
		if slices.ContainsFunc(out, func(h Identifier) bool {
			if k == "" {
				return IdentifierKey(h) == "" && h.Value == id.Value
			}
			return IdentifierKey(h) == k
		}) {
			continue
		}
		out = append(out, id)
		added = true
	}
	return out, added
}
