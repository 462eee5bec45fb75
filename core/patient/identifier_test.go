package patient

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient/patienttest"
)

const oidA = "urn:oid:2.16.840.1.113883.19.5"

// TestFindByIdentifiers: patients are found by (system, value) — the
// system without case or "urn:oid:" (C-CDA writes a bare OID), never by
// the value alone — and by a merged-away MRN kept as an identifier; the
// read is audited with the count, never the values; roles without
// patient access are refused.
func TestFindByIdentifiers(t *testing.T) {
	f := newFixture(t)
	adaIn := input("MRN-ID1", "Ada", "Lovelace")
	adaIn.Identifiers = []Identifier{{System: oidA, Value: "12345", Type: "MR"}}
	ada := f.create(t, adaIn)
	beaIn := input("MRN-ID2", "Bea", "Quill")
	beaIn.Identifiers = []Identifier{{System: "http://hospital.example.org/mrn", Value: "12345"}}
	bea := f.create(t, beaIn)

	tests := []struct {
		name string
		ids  []Identifier
		want []string
	}{
		{"same system and value", []Identifier{{System: oidA, Value: "12345"}}, []string{ada.ID}},
		{"bare OID in another case", []Identifier{{System: "2.16.840.1.113883.19.5", Value: " 12345 "}}, []string{ada.ID}},
		{"the value alone matches nobody", []Identifier{{Value: "12345"}}, nil},
		{"another system's number", []Identifier{{System: "urn:oid:9.9.9", Value: "12345"}}, nil},
		{"both people", []Identifier{{System: oidA, Value: "12345"}, {System: "HTTP://hospital.example.org/mrn", Value: "12345"}}, []string{ada.ID, bea.ID}},
		{"a practice MRN", []Identifier{{System: MergedMRNSystem, Value: "MRN-ID2"}}, []string{bea.ID}},
		{"nothing to match on", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.aud.Events())
			got, err := f.svc.FindByIdentifiers(f.ctx, tc.ids)
			require.NoError(t, err)
			var ids []string
			for _, p := range got {
				ids = append(ids, p.ID)
			}
			want := append([]string(nil), tc.want...)
			if len(want) == 2 && want[0] > want[1] {
				want[0], want[1] = want[1], want[0] // in id order
			}
			assert.Equal(t, want, ids)
			events := f.aud.Events()[before:]
			require.Len(t, events, 1)
			assert.Equal(t, "patient.read", events[0].Action)
			assert.Contains(t, events[0].Detail, "by=identifier")
			assert.NotContains(t, events[0].Detail, "12345", "no identifier values in the audit trail")
		})
	}

	_, err := f.svc.FindByIdentifiers(patienttest.As(t.Context(), actor.RoleAuditor), []Identifier{{System: oidA, Value: "12345"}})
	assert.Error(t, err, "auditors see no patient data")
}

// TestGenerateMRN: a generated practice MRN has pfinni's form, passes
// the MRN rules (a patient can be created with it) and is never one a
// patient holds.
func TestGenerateMRN(t *testing.T) {
	f := newFixture(t)
	seen := map[string]bool{}
	for range 20 {
		mrn := f.svc.GenerateMRN()
		assert.Regexp(t, `^PF-[0-9A-Z]{10}$`, mrn)
		assert.False(t, seen[mrn])
		seen[mrn] = true
	}
	p := f.create(t, input(f.svc.GenerateMRN(), "Gen", "Erated"))
	assert.NotEqual(t, p.MRN, f.svc.GenerateMRN())
}

// TestAddIdentifiers: merging identifiers adds only what is new,
// comparing as matching does (system without case or "urn:oid:");
// identifiers without a system are compared by value, empty values are
// dropped.
func TestAddIdentifiers(t *testing.T) {
	have := []Identifier{{System: oidA, Value: "1"}, {Value: "loose"}}
	tests := []struct {
		name  string
		ids   []Identifier
		added bool
		n     int
	}{
		{"nothing", nil, false, 2},
		{"held, written as a bare OID", []Identifier{{System: "2.16.840.1.113883.19.5", Value: "1"}}, false, 2},
		{"held without a system", []Identifier{{Value: "loose"}}, false, 2},
		{"empty value", []Identifier{{System: oidA, Value: " "}}, false, 2},
		{"new value", []Identifier{{System: oidA, Value: "2"}}, true, 3},
		{"new loose value", []Identifier{{Value: "other"}}, true, 3},
		{"same value, other system", []Identifier{{System: "urn:oid:9.9", Value: "1"}, {System: "urn:oid:9.9", Value: "1"}}, true, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, added := AddIdentifiers(have, tc.ids)
			assert.Equal(t, tc.added, added)
			assert.Len(t, out, tc.n)
			assert.Equal(t, have, out[:2], "what was held is kept, in order")
		})
	}
	assert.Len(t, have, 2, "the input is not changed")
	assert.True(t, Matchable([]Identifier{{Value: "x"}, {System: "urn:oid:1", Value: "y"}}))
	assert.False(t, Matchable([]Identifier{{Value: "x"}, {System: "urn:oid:1"}}))
}
