// Package importkit holds what the C-CDA and FHIR importers share: the
// rejection error, problem helpers and the normalisation of contact
// points, languages, sex, race and ethnicity codes.
package importkit

import (
	"errors"
	"strings"

	"golang.org/x/text/language"

	"github.com/pfinni/pfinni/plugins/internal/xmlsafe"
	"github.com/pfinni/pfinni/sdk"
)

// Rejection reasons: stable, short, for tests, metrics and the host.
const (
	ReasonTooLarge     = "too_large"
	ReasonTooDeep      = "too_deep"
	ReasonTooManyElems = "too_many_elements"
	ReasonDTD          = "doctype"
	ReasonEncoding     = "encoding"
	ReasonMalformed    = "malformed"
	ReasonEmpty        = "empty"
	ReasonWrongFormat  = "wrong_format"
	ReasonNoPatient    = "no_patient"
	ReasonCanceled     = "canceled"
	ReasonUnclassified = "rejected"
)

// Rejection is returned when a whole document cannot be imported. It
// unwraps both to the cause (for errors.Is with the xmlsafe errors) and to
// an *sdk.Error with sdk.CodeInvalidInput, so the host knows the fault is
// the document's, not the plugin's.
type Rejection struct {
	Reason string
	Err    error
}

func (r *Rejection) Error() string { return r.Err.Error() }

// Unwrap exposes the cause and the sdk error code.
func (r *Rejection) Unwrap() []error {
	return []error{r.Err, &sdk.Error{Code: sdk.CodeInvalidInput, Message: r.Err.Error()}}
}

// Reject wraps err as a Rejection with the given reason.
func Reject(reason string, err error) error { return &Rejection{Reason: reason, Err: err} }

// ReasonOf returns the rejection reason of err, or "" when err is nil.
func ReasonOf(err error) string {
	if err == nil {
		return ""
	}
	var r *Rejection
	if errors.As(err, &r) {
		return r.Reason
	}
	return ReasonUnclassified
}

// ParseXML runs xmlsafe.Parse with the request's limits and classifies its
// failure as a Rejection.
func ParseXML(req sdk.ImportRequest) (*xmlsafe.Document, error) {
	doc, err := xmlsafe.Parse(req.Document, xmlsafe.Limits{
		MaxBytes: req.MaxBytes, MaxDepth: req.MaxDepth, MaxElements: req.MaxElements,
	})
	if err == nil {
		return doc, nil
	}
	reason := ReasonMalformed
	for _, c := range []struct {
		err    error
		reason string
	}{
		{xmlsafe.ErrTooLarge, ReasonTooLarge},
		{xmlsafe.ErrTooDeep, ReasonTooDeep},
		{xmlsafe.ErrTooManyElements, ReasonTooManyElems},
		{xmlsafe.ErrDTD, ReasonDTD},
		{xmlsafe.ErrEncoding, ReasonEncoding},
		{xmlsafe.ErrEmpty, ReasonEmpty},
	} {
		if errors.Is(err, c.err) {
			reason = c.reason
			break
		}
	}
	return nil, Reject(reason, err)
}

// Problems collects the problems of one record.
type Problems struct{ List []sdk.Problem }

// Warn records a fault that keeps the record.
func (p *Problems) Warn(element, msg string) {
	p.List = append(p.List, sdk.Problem{Element: element, Message: msg, Severity: sdk.SeverityWarning})
}

// Error records a fault that rejects the record.
func (p *Problems) Error(element, msg string) {
	p.List = append(p.List, sdk.Problem{Element: element, Message: msg, Severity: sdk.SeverityError})
}

// DocProblems turns xmlsafe warnings into document-level problems.
func DocProblems(doc *xmlsafe.Document) []sdk.Problem {
	var out []sdk.Problem
	for _, w := range doc.Warnings {
		out = append(out, sdk.Problem{Element: "document", Message: w, Severity: sdk.SeverityWarning})
	}
	return out
}

// ContactValue strips URI schemes from a telecom value and says which
// system it is: tel:/fax:/mailto: (also "mailto://"), http(s):, or no
// scheme at all (then "@" means e-mail and digits mean phone).
func ContactValue(raw string) (system, value string) {
	v := strings.TrimSpace(raw)
	lower := strings.ToLower(v)
	for _, s := range []struct{ prefix, system string }{
		{"mailto:", "email"}, {"tel:", "phone"}, {"fax:", "fax"},
		{"http://", "url"}, {"https://", "url"},
	} {
		if strings.HasPrefix(lower, s.prefix) {
			if s.system == "url" {
				return "url", v
			}
			v = strings.TrimSpace(v[len(s.prefix):])
			if s.system == "email" {
				v = strings.TrimLeft(v, "/")
			}
			return s.system, v
		}
	}
	switch {
	case strings.Contains(v, "@"):
		return "email", v
	case Digits(v) > 0:
		return "phone", v
	}
	return "other", v
}

// Digits counts the decimal digits in s.
func Digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// MinPhoneDigits is the fewest digits a usable phone number has.
const MinPhoneDigits = 7

// PickContacts sets rec.Phone and rec.Email from rec.Telecoms: the first
// complete phone with use home, then mobile, then any other use except
// old; the first e-mail likewise.
func PickContacts(rec *sdk.PatientRecord) {
	rank := func(use string) int {
		switch use {
		case "home":
			return 0
		case "mobile":
			return 1
		case "", "work":
			return 2
		case "old":
			return 9
		}
		return 3
	}
	bestPhone, bestEmail := 10, 10
	for _, t := range rec.Telecoms {
		r := rank(t.Use)
		if r >= 9 {
			continue
		}
		switch t.System {
		case "phone":
			if r < bestPhone && Digits(t.Value) >= MinPhoneDigits {
				rec.Phone, bestPhone = t.Value, r
			}
		case "email":
			if r < bestEmail {
				rec.Email, bestEmail = t.Value, r
			}
		}
	}
}

// Language normalises a language code to a BCP 47 tag ("eng", "ENG",
// "en" -> "en"; "en-US" stays; "fr-CN" stays). Unrecognised codes are
// returned as given, with ok false.
func Language(code string) (tag string, ok bool) {
	code = strings.TrimSpace(code)
	if code == "" {
		return "", false
	}
	t, err := language.Parse(code)
	if err != nil {
		return code, false
	}
	return t.String(), true
}

// Sex maps an administrative gender code (HL7 v3 M/F/UN, FHIR
// male/female/other/unknown, and their spelled-out forms) to
// female | male | other | unknown. ok is false for an unrecognised code.
func Sex(code string) (sex string, ok bool) {
	switch strings.ToLower(strings.TrimSpace(code)) {
	case "f", "female":
		return "female", true
	case "m", "male":
		return "male", true
	case "un", "o", "other", "undifferentiated":
		return "other", true
	case "unk", "u", "unknown", "":
		return "unknown", true
	}
	return "unknown", false
}

// cdcRaceEthnicity names the OMB minimum categories of the CDC Race and
// Ethnicity code system (2.16.840.1.113883.6.238), so that vendors'
// spellings ("WHITE", "White") come out the same.
var cdcRaceEthnicity = map[string]string{
	"1002-5": "American Indian or Alaska Native",
	"2028-9": "Asian",
	"2054-5": "Black or African American",
	"2076-8": "Native Hawaiian or Other Pacific Islander",
	"2106-3": "White",
	"2131-1": "Other Race",
	"2135-2": "Hispanic or Latino",
	"2186-5": "Not Hispanic or Latino",
}

// RaceName returns the display name for a CDC race/ethnicity code, else
// the document's display name, else the code.
func RaceName(code, display string) string {
	if n, ok := cdcRaceEthnicity[strings.TrimSpace(code)]; ok {
		return n
	}
	if d := xmlsafe.Collapse(display); d != "" {
		return d
	}
	return strings.TrimSpace(code)
}

// maritalWords maps display strings some vendors put in the code
// attribute (Epic: code="Single") to HL7 v3 MaritalStatus codes.
var maritalWords = map[string]string{
	"annulled": "A", "divorced": "D", "interlocutory": "I",
	"legally separated": "L", "separated": "L", "married": "M",
	"polygamous": "P", "never married": "S", "single": "S",
	"domestic partner": "T", "unmarried": "U", "widowed": "W",
	"unknown": "UNK",
}

// MaritalStatus normalises a marital status code to the HL7 v3
// MaritalStatus code (A, D, I, L, M, P, S, T, U, W, UNK), which FHIR uses
// too. ok is false when neither the code nor the display is recognised.
func MaritalStatus(code, display string) (string, bool) {
	c := strings.ToUpper(strings.TrimSpace(code))
	switch c {
	case "A", "D", "I", "L", "M", "P", "S", "T", "U", "W", "UNK":
		return c, true
	}
	for _, s := range []string{code, display} {
		if m, ok := maritalWords[strings.ToLower(xmlsafe.Collapse(s))]; ok {
			return m, true
		}
	}
	return "", false
}

// IsPlaceholder reports whether a name part is a placeholder some
// exports write instead of leaving it out ("null", "NULL", "undefined").
func IsPlaceholder(s string) bool {
	switch strings.ToLower(s) {
	case "null", "undefined", "(null)", "nil":
		return true
	}
	return false
}

// IsAddressPlaceholder reports whether an address part is a stand-in for
// "no value" ("Unknown", "UNK", "N/A", "No Address Indicated", ...).
func IsAddressPlaceholder(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	switch l {
	case "unknown", "unk", "n/a", "na", "none", "null", "not available", "not given":
		return true
	}
	return strings.HasPrefix(l, "no ") && strings.HasSuffix(l, " indicated")
}
