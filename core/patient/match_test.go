package patient

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient/patienttest"
)

func TestCandidates(t *testing.T) {
	f := newFixture(t)
	base := input("MRN-1", "Margaret", "Thornton")
	held := f.create(t, base)
	other := f.create(t, Input{MRN: "MRN-2", FirstName: "Oliver", LastName: "Quinn", DateOfBirth: "1990-01-02", Sex: "male"})

	cases := []struct {
		name    string
		in      func(in Input) Input
		want    string // id expected first, "" for none
		reasons []string
	}{
		{"one surname letter apart, same birth date", func(in Input) Input {
			in.LastName, in.Phone, in.Email, in.Address = "Thorntan", "", "", Address{}
			return in
		}, held.ID, []string{ReasonLastNameOneOff, ReasonSameFirstName, ReasonSameBirthDate}},
		{"accents and case do not matter", func(in Input) Input {
			in.FirstName, in.LastName, in.Phone, in.Email, in.Address = "MARGARÉT", "thornton", "", "", Address{}
			return in
		}, held.ID, []string{ReasonSameLastName, ReasonSameFirstName, ReasonSameBirthDate}},
		{"names swapped", func(in Input) Input {
			in.FirstName, in.LastName, in.Email = "Thornton", "Margaret", ""
			return in
		}, held.ID, []string{ReasonNamesSwapped, ReasonSameBirthDate, ReasonSamePhone}},
		{"same name and phone, no birth date", func(in Input) Input {
			in.DateOfBirth, in.Email, in.Address = "", "", Address{}
			return in
		}, held.ID, []string{ReasonSameLastName, ReasonSamePhone}},
		{"day and month swapped, same email", func(in Input) Input {
			in.DateOfBirth, in.Phone = "1980-17-05", ""
			return in
		}, held.ID, []string{ReasonBirthDateSwapped, ReasonSameEmail, ReasonSameAddress}},
		{"same name alone is not enough", func(in Input) Input {
			return Input{FirstName: in.FirstName, LastName: in.LastName}
		}, "", nil},
		{"same name, other birth date and sex", func(in Input) Input {
			in.DateOfBirth, in.Sex, in.Phone, in.Email = "1950-02-03", "male", "", ""
			return in
		}, "", nil},
		{"different person sharing a birth date", func(in Input) Input {
			return Input{FirstName: "Zed", LastName: "Alvarez", DateOfBirth: in.DateOfBirth}
		}, "", nil},
		{"short first names one letter apart do not count", func(in Input) Input {
			return Input{FirstName: "Oliva", LastName: "Quin", DateOfBirth: "1990-01-03"}
		}, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.svc.Candidates(f.ctx, tc.in(base), 5)
			require.NoError(t, err)
			if tc.want == "" {
				assert.Empty(t, got)
				return
			}
			require.NotEmpty(t, got)
			assert.Equal(t, tc.want, got[0].ID)
			assert.GreaterOrEqual(t, got[0].Score, DuplicateThreshold)
			assert.LessOrEqual(t, got[0].Score, 1.0)
			for _, r := range tc.reasons {
				assert.Contains(t, got[0].Reasons, r)
			}
			for _, c := range got {
				assert.NotEqual(t, other.ID, c.ID)
			}
		})
	}

	// The read is audited without values; auditors are refused.
	assertNoPHI(t, f.aud.Events(), held)
	_, err := f.svc.Candidates(patienttest.As(t.Context(), actor.RoleAuditor), base, 5)
	require.ErrorIs(t, err, ErrNotAllowed)
}

func TestCandidatesOrderAndLimit(t *testing.T) {
	f := newFixture(t)
	exact := f.create(t, input("A-1", "Henrietta", "Lacks"))
	near := f.create(t, Input{MRN: "A-2", FirstName: "Henrieta", LastName: "Lacks", DateOfBirth: "1980-05-17"})
	in := input("", "Henrietta", "Lacks")
	got, err := f.svc.Candidates(f.ctx, in, 0)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, exact.ID, got[0].ID)
	assert.Equal(t, near.ID, got[1].ID)
	assert.Greater(t, got[0].Score, got[1].Score)
	got, err = f.svc.Candidates(f.ctx, in, 1)
	require.NoError(t, err)
	assert.Len(t, got, 1)

	c := f.svc.ScoreAgainst(in, near.ID)
	assert.Contains(t, c.Reasons, ReasonFirstNameOneOff)
	none := f.svc.ScoreAgainst(in, "p_missing")
	assert.Zero(t, none.Score)
	assert.Empty(t, none.Reasons)
}

func TestMatchHelpers(t *testing.T) {
	assert.Equal(t, "obriensmith", nameKey("O'Brien-Smith"))
	assert.Equal(t, "2125550142", phoneKey("+1 (212) 555-0142"))
	assert.Equal(t, "", phoneKey("555"))
	assert.True(t, dayMonthSwapped("1980-05-17", "1980-17-05"))
	assert.False(t, dayMonthSwapped("1980-05-17", "1981-17-05"))
	assert.True(t, oneDigitApart("1980-05-17", "1980-05-18"))
	assert.False(t, oneDigitApart("1980-05-17", "1980-5-17"))
	w, r := nameEvidence("christopher", "kristopher", 1, 0.5, 0.25, "s", "o", "sim")
	assert.Equal(t, 0.25, w)
	assert.Equal(t, "sim", r)
	w, _ = nameEvidence("", "x", 1, 0.5, 0.25, "s", "o", "sim")
	assert.Zero(t, w)
}
