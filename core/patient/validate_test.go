package patient

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/fault"
)

func TestValidation(t *testing.T) {
	v := validation{now: testNow, provider: func(id string) bool { return id == "pr_ok" }}
	base := func() *Patient {
		p := input("MRN-1", "Ann", "Lee").patient()
		p.Status = StatusOnboarding
		return p
	}
	cases := []struct {
		name  string
		edit  func(p *Patient)
		field string // "" = valid
	}{
		{"valid", func(p *Patient) {}, ""},
		{"mrn missing", func(p *Patient) { p.MRN = " " }, "mrn"},
		{"mrn bad chars", func(p *Patient) { p.MRN = "-abc" }, "mrn"},
		{"mrn too long", func(p *Patient) { p.MRN = strings.Repeat("a", 65) }, "mrn"},
		{"mrn dots ok", func(p *Patient) { p.MRN = "a.b_c-9" }, ""},
		{"first name missing", func(p *Patient) { p.FirstName = "" }, "first_name"},
		{"last name missing", func(p *Patient) { p.LastName = "  " }, "last_name"},
		{"name too long", func(p *Patient) { p.LastName = strings.Repeat("x", 101) }, "last_name"},
		{"feb 31", func(p *Patient) { p.DateOfBirth = "1984-02-31" }, "date_of_birth"},
		{"not a date", func(p *Patient) { p.DateOfBirth = "17/05/1980" }, "date_of_birth"},
		{"future", func(p *Patient) { p.DateOfBirth = "2026-03-11" }, "date_of_birth"},
		{"today ok", func(p *Patient) { p.DateOfBirth = "2026-03-10" }, ""},
		{"before 1900", func(p *Patient) { p.DateOfBirth = "1899-12-31" }, "date_of_birth"},
		{"leap day ok", func(p *Patient) { p.DateOfBirth = "1984-02-29" }, ""},
		{"dob empty ok", func(p *Patient) { p.DateOfBirth = "" }, ""},
		{"sex", func(p *Patient) { p.Sex = "f" }, "sex"},
		{"email", func(p *Patient) { p.Email = "ann@" }, "email"},
		{"email with name", func(p *Patient) { p.Email = "Ann <ann@example.org>" }, "email"},
		{"email no dot", func(p *Patient) { p.Email = "ann@localhost" }, "email"},
		{"phone letters", func(p *Patient) { p.Phone = "555-CALL-NOW" }, "phone"},
		{"phone short", func(p *Patient) { p.Phone = "555-01" }, "phone"},
		{"phone long", func(p *Patient) { p.Phone = "+1 234 567 890 123 456" }, "phone"},
		{"phone plus ok", func(p *Patient) { p.Phone = "+44 (20) 7946.0958" }, ""},
		{"provider unknown", func(p *Patient) { p.ProviderID = "pr_nope" }, "provider_id"},
		{"provider ok", func(p *Patient) { p.ProviderID = "pr_ok" }, ""},
		{"status", func(p *Patient) { p.Status = "gone" }, "status"},
		{"tags", func(p *Patient) { p.Tags = []string{""} }, "tags"},
		{"middle names", func(p *Patient) { p.MiddleNames = []string{strings.Repeat("m", 101)} }, "middle_names"},
		{"city long", func(p *Patient) { p.Address.City = strings.Repeat("c", 201) }, "address.city"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := base()
			c.edit(p)
			err := v.check(p, func(string) bool { return true })
			if c.field == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, fault.ErrInvalid)
			var fs fault.Fields
			require.True(t, errors.As(err, &fs))
			require.Len(t, fs, 1, "%v", fs)
			assert.Equal(t, c.field, fs[0].Field)
			// Messages never echo the value.
			for _, val := range []string{p.MRN, p.DateOfBirth, p.Email, p.Phone, p.FirstName, p.LastName} {
				if len(val) > 3 {
					assert.NotContains(t, fs[0].Message, val)
				}
			}
		})
	}
}

func TestValidationOnlyChecksTouchedFields(t *testing.T) {
	v := validation{now: testNow}
	p := &Patient{MRN: "", FirstName: "", LastName: "", Sex: "bad", Status: "x", Phone: "1"}
	assert.NoError(t, v.check(p, func(f string) bool { return f == "language" }))
	err := v.check(p, func(f string) bool { return f == "phone" })
	var fs fault.Fields
	require.True(t, errors.As(err, &fs))
	assert.Equal(t, "phone", fs[0].Field)
	_ = time.Now
}

func TestValidateProvider(t *testing.T) {
	cases := []struct {
		name  string
		p     Provider
		field string
	}{
		{"ok", Provider{Name: "Dr. A", NPI: "1234567890", Phone: "555-0100 12", Email: "a@example.org"}, ""},
		{"no name", Provider{Name: " "}, "name"},
		{"long name", Provider{Name: strings.Repeat("n", 201)}, "name"},
		{"npi", Provider{Name: "A", NPI: "12"}, "npi"},
		{"phone", Provider{Name: "A", Phone: "x"}, "phone"},
		{"email", Provider{Name: "A", Email: "nope"}, "email"},
		{"specialty", Provider{Name: "A", Specialty: strings.Repeat("s", 201)}, "specialty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validateProvider(c.p)
			if c.field == "" {
				assert.NoError(t, err)
				return
			}
			var fs fault.Fields
			require.True(t, errors.As(err, &fs))
			assert.Equal(t, c.field, fs[0].Field)
		})
	}
}
