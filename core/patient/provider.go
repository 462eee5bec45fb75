package patient

import (
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/fault"
)

// Provider is a clinician patients are assigned to (Patient.ProviderID).
// Providers are not PHI; they are kept in the directory too.
type Provider struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	NPI          string    `json:"npi"`
	Specialty    string    `json:"specialty"`
	Phone        string    `json:"phone"`
	Email        string    `json:"email"`
	Organization string    `json:"organization"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ProviderInput is what a caller sets when creating a provider.
type ProviderInput struct {
	Name         string `json:"name"`
	NPI          string `json:"npi"`
	Specialty    string `json:"specialty"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
	Organization string `json:"organization"`
}

// ProviderPatch changes parts of a provider; nil leaves a field as it is.
type ProviderPatch struct {
	Name         *string `json:"name"`
	NPI          *string `json:"npi"`
	Specialty    *string `json:"specialty"`
	Phone        *string `json:"phone"`
	Email        *string `json:"email"`
	Organization *string `json:"organization"`
}

func (pp ProviderPatch) apply(p Provider) (Provider, []string) {
	var changed []string
	set := func(name string, dst *string, src *string) {
		if src != nil && *dst != *src {
			*dst = *src
			changed = append(changed, name)
		}
	}
	set("name", &p.Name, pp.Name)
	set("npi", &p.NPI, pp.NPI)
	set("specialty", &p.Specialty, pp.Specialty)
	set("phone", &p.Phone, pp.Phone)
	set("email", &p.Email, pp.Email)
	set("organization", &p.Organization, pp.Organization)
	return p, changed
}

func validateProvider(p Provider) error {
	var f fault.Fields
	if strings.TrimSpace(p.Name) == "" {
		f.Add("name", "is required")
	} else if len(p.Name) > maxText {
		f.Add("name", "must be at most 200 characters")
	}
	if p.NPI != "" && (len(p.NPI) != 10 || len(digitsOf(p.NPI)) != 10) {
		f.Add("npi", "must be 10 digits")
	}
	if p.Phone != "" {
		if n := len(digitsOf(p.Phone)); !phonePattern.MatchString(p.Phone) || n < 7 || n > 15 {
			f.Add("phone", "must be 7-15 digits, optionally with +, parentheses, dashes, dots or spaces")
		}
	}
	if p.Email != "" && !strings.Contains(p.Email, "@") {
		f.Add("email", "must be an email address like name@example.org")
	}
	for _, t := range []struct{ field, v string }{{"specialty", p.Specialty}, {"organization", p.Organization}, {"email", p.Email}} {
		if len(t.v) > maxText {
			f.Add(t.field, "must be at most 200 characters")
		}
	}
	return f.Err()
}
