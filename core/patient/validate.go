package patient

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/fault"
)

var (
	mrnPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	phonePattern = regexp.MustCompile(`^\+?[0-9()\-. ]+$`)
)

// limits on free text, so one record cannot bloat the directory.
const (
	maxName  = 100
	maxText  = 200
	maxTags  = 20
	maxTag   = 40
	maxItems = 20
)

// validation checks a candidate record. check(field) says whether a
// field is to be checked (every field on create; the changed ones on
// update, so legacy data in untouched fields does not block an edit).
type validation struct {
	now      time.Time
	provider func(id string) bool
}

func (v validation) check(p *Patient, check func(field string) bool) error {
	var f fault.Fields
	if check("mrn") {
		switch {
		case strings.TrimSpace(p.MRN) == "":
			f.Add("mrn", "is required")
		case !mrnPattern.MatchString(p.MRN):
			f.Add("mrn", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
		}
	}
	names := []struct {
		field    string
		value    string
		required bool
	}{{"first_name", p.FirstName, true}, {"last_name", p.LastName, true}, {"preferred_name", p.PreferredName, false}}
	for _, n := range names {
		if !check(n.field) {
			continue
		}
		switch {
		case n.required && strings.TrimSpace(n.value) == "":
			f.Add(n.field, "is required")
		case len(n.value) > maxName:
			f.Add(n.field, fmt.Sprintf("must be at most %d characters", maxName))
		}
	}
	if check("middle_names") && (len(p.MiddleNames) > maxItems || slices.ContainsFunc(p.MiddleNames, func(s string) bool { return len(s) > maxName })) {
		f.Add("middle_names", fmt.Sprintf("at most %d names of at most %d characters", maxItems, maxName))
	}
	if check("date_of_birth") && p.DateOfBirth != "" {
		if msg := v.checkDOB(p.DateOfBirth); msg != "" {
			f.Add("date_of_birth", msg)
		}
	}
	if check("sex") && !slices.Contains(sexes, p.Sex) {
		f.Add("sex", "must be one of female, male, other, unknown")
	}
	if check("email") && p.Email != "" {
		if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email || a.Name != "" || !strings.Contains(p.Email[strings.LastIndexByte(p.Email, '@')+1:], ".") {
			f.Add("email", "must be an email address like name@example.org")
		}
	}
	if check("phone") && p.Phone != "" {
		digits := len(digitsOf(p.Phone))
		if !phonePattern.MatchString(p.Phone) || digits < 7 || digits > 15 {
			f.Add("phone", "must be 7-15 digits, optionally with +, parentheses, dashes, dots or spaces")
		}
	}
	if check("provider_id") && p.ProviderID != "" && (v.provider == nil || !v.provider(p.ProviderID)) {
		f.Add("provider_id", "no provider with this id")
	}
	if check("tags") && (len(p.Tags) > maxTags || slices.ContainsFunc(p.Tags, func(s string) bool { return s == "" || len(s) > maxTag })) {
		f.Add("tags", fmt.Sprintf("at most %d non-empty tags of at most %d characters", maxTags, maxTag))
	}
	if check("identifiers") && (len(p.Identifiers) > maxItems || slices.ContainsFunc(p.Identifiers, func(id Identifier) bool {
		return strings.TrimSpace(id.Value) == "" || len(id.Value) > maxText || len(id.System) > maxText || len(id.Type) > maxTag
	})) {
		f.Add("identifiers", fmt.Sprintf("at most %d identifiers, each with a value of at most %d characters and a system (OID or URI) of at most %d", maxItems, maxText, maxText))
	}
	if check("status") && !p.Status.Valid() {
		f.Add("status", "must be one of onboarding, active, inactive, churned")
	}
	texts := []struct{ field, value string }{
		{"address.line1", p.Address.Line1}, {"address.line2", p.Address.Line2}, {"address.city", p.Address.City},
		{"address.state", p.Address.State}, {"address.postal_code", p.Address.PostalCode}, {"address.country", p.Address.Country},
		{"insurance.payer", p.Insurance.Payer}, {"insurance.member_id", p.Insurance.MemberID}, {"insurance.group", p.Insurance.Group},
		{"language", p.Language}, {"marital_status", p.MaritalStatus}, {"source", p.Source},
	}
	for _, t := range texts {
		if check(t.field) && len(t.value) > maxText {
			f.Add(t.field, fmt.Sprintf("must be at most %d characters", maxText))
		}
	}
	return f.Err()
}

// checkDOB returns what is wrong with a date of birth, or "".
func (v validation) checkDOB(s string) string {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Format(time.DateOnly) != s {
		return "must be a real date, YYYY-MM-DD"
	}
	if d.Year() < 1900 {
		return "must not be before 1900"
	}
	today := time.Date(v.now.Year(), v.now.Month(), v.now.Day(), 0, 0, 0, 0, time.UTC)
	if d.After(today) {
		return "must not be in the future"
	}
	return ""
}

// digitsOf returns the digits of s.
func digitsOf(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}
