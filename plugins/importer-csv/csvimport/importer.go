// Package csvimport reads patient lists from CSV files (spreadsheet
// exports): it detects the delimiter (comma, semicolon, tab), maps the
// header to patient fields by common synonyms ("Surname", "DOB",
// "Chart #", "E-mail", "Zip") or by the caller's mapping, and returns one
// sdk.PatientRecord per data row with per-row problems that name the
// field and the column, never the value. It is hostile-input safe: the
// document, the number of columns and rows and each cell are bounded,
// invalid UTF-8 is read as Windows-1252, and nothing panics.
//
// Imported by the importer-csv WASM plugin only; parsing lives here so it
// is unit-tested and fuzzed natively.
package csvimport

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/pfinni/pfinni/plugins/internal/importkit"
	"github.com/pfinni/pfinni/sdk"
)

// Format is the import format this importer serves.
const Format = "csv"

// Limits of one document.
const (
	DefaultMaxBytes = 10 << 20
	MaxColumns      = 200
	MaxCell         = 4096
	MaxRows         = 50000
)

// Importer is the CSV importer.
type Importer struct{}

var _ sdk.Importer = Importer{}

// Import reads one CSV document.
func (Importer) Import(ctx context.Context, req sdk.ImportRequest) (sdk.ImportResult, error) {
	if req.Format != Format {
		return sdk.ImportResult{}, importkit.Reject(importkit.ReasonWrongFormat, fmt.Errorf("this importer reads CSV files, not %q", req.Format))
	}
	max := req.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	if len(req.Document) > max {
		return sdk.ImportResult{}, importkit.Reject(importkit.ReasonTooLarge, fmt.Errorf("the file is larger than %d bytes", max))
	}
	if h, ok := checkOverride(req.Mapping); !ok {
		return sdk.ImportResult{}, sdk.Errorf(sdk.CodeInvalidInput, "the mapping of column %q names an unknown field", h)
	}
	return Parse(ctx, req.Document, req.Mapping)
}

// Parse reads doc with the given mapping override (may be nil).
func Parse(ctx context.Context, doc []byte, override map[string]string) (sdk.ImportResult, error) {
	var res sdk.ImportResult
	text, reencoded := decode(doc)
	if reencoded {
		res.Problems = append(res.Problems, sdk.Problem{Element: "document", Message: "the file is not valid UTF-8; it was read as Windows-1252", Severity: sdk.SeverityWarning})
	}
	rows := split(text, sniffDelimiter(text), limits{maxColumns: MaxColumns, maxCell: MaxCell, maxRows: MaxRows})
	if len(rows) == 0 {
		return res, importkit.Reject(importkit.ReasonEmpty, fmt.Errorf("the file is empty"))
	}
	head := rows[0]
	if head.over {
		return res, importkit.Reject(importkit.ReasonTooLarge, fmt.Errorf("the header has more than %d columns", MaxColumns))
	}
	if head.err != "" {
		return res, importkit.Reject(importkit.ReasonMalformed, fmt.Errorf("the header row cannot be read: %s", head.err))
	}
	if len(rows) > MaxRows+1 {
		return res, importkit.Reject(importkit.ReasonTooLarge, fmt.Errorf("the file has more than %d rows; split it", MaxRows))
	}
	res.Columns = mapColumns(head.cells, override)
	var mapped []string
	for _, c := range res.Columns {
		if c.Field != "" {
			mapped = append(mapped, c.Field)
		}
	}
	if !contains(mapped, "last_name") && !contains(mapped, "first_name") {
		// No records, but the columns: the page shows them so the user
		// can map them and try again.
		res.Problems = append(res.Problems, sdk.Problem{Element: "header", Severity: sdk.SeverityError,
			Message: "no column is recognised as a first or last name; map the columns (for example \"Last Name\", \"Surname\") and try again"})
		return res, nil
	}
	for _, c := range res.Columns {
		if c.Field == "" && c.Header != "" {
			res.Problems = append(res.Problems, sdk.Problem{Element: columnLabel(c), Message: "the column is not mapped to a patient field; it is ignored", Severity: sdk.SeverityWarning})
		}
	}
	res.Records = make([]sdk.PatientRecord, 0, len(rows)-1)
	for n, r := range rows[1:] {
		if n%256 == 0 && ctx.Err() != nil {
			return sdk.ImportResult{}, importkit.Reject(importkit.ReasonCanceled, ctx.Err())
		}
		res.Records = append(res.Records, record(r, n+2, res.Columns))
	}
	return res, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// columnLabel names a column for problems: the mapped field and the
// header as written (a header is never patient data).
func columnLabel(c sdk.Column) string {
	h := c.Header
	if len(h) > 60 {
		h = h[:60] + "…"
	}
	if c.Field == "" {
		return fmt.Sprintf("column %d (%q)", c.Index+1, h)
	}
	return fmt.Sprintf("%s (column %q)", c.Field, h)
}

// record turns one data row into a patient record with its problems.
// Row numbers count the header as row 1, as a spreadsheet shows them.
func record(r row, rowNo int, cols []sdk.Column) sdk.PatientRecord {
	rec := sdk.PatientRecord{SourceRef: fmt.Sprintf("row %d", rowNo), Sex: "unknown"}
	bad := func(c sdk.Column, msg string) {
		rec.Problems = append(rec.Problems, sdk.Problem{Element: columnLabel(c), Message: msg, Severity: sdk.SeverityError})
	}
	warn := func(c sdk.Column, msg string) {
		rec.Problems = append(rec.Problems, sdk.Problem{Element: columnLabel(c), Message: msg, Severity: sdk.SeverityWarning})
	}
	if r.err != "" {
		rec.Problems = append(rec.Problems, sdk.Problem{Element: fmt.Sprintf("row %d", rowNo), Message: r.err, Severity: sdk.SeverityError})
	}
	if r.over || len(r.cells) > len(cols) {
		rec.Problems = append(rec.Problems, sdk.Problem{Element: fmt.Sprintf("row %d", rowNo), Message: "the row has more values than the header has columns; the extra values are ignored", Severity: sdk.SeverityWarning})
	}
	var (
		addr sdk.Address
		ins  sdk.Insurance
		byF  = map[string]sdk.Column{}
	)
	for i, c := range cols {
		if c.Field == "" || i >= len(r.cells) {
			continue
		}
		byF[c.Field] = c
		v := strings.TrimSpace(r.cells[i])
		if v == "" {
			continue
		}
		switch c.Field {
		case "mrn":
			rec.MRN = v
			rec.Identifiers = []sdk.Identifier{{System: PracticeMRNSystem, Value: v, Type: "MR"}}
		case "first_name":
			rec.FirstName = v
		case "middle_name":
			rec.MiddleNames = strings.Fields(v)
		case "last_name":
			rec.LastName = v
		case "preferred_name":
			rec.PreferredName = v
		case "date_of_birth":
			d, ok := parseDate(v)
			switch {
			case !ok:
				bad(c, "the birth date is not a date (use YYYY-MM-DD or MM/DD/YYYY)")
			case d.After(time.Now()):
				bad(c, "the birth date is in the future")
			case d.Year() < 1880:
				bad(c, "the birth date is before 1880")
			default:
				rec.DateOfBirth = d.Format(time.DateOnly)
			}
		case "sex":
			s, ok := importkit.Sex(v)
			rec.Sex = s
			if !ok {
				warn(c, "the sex is not one of female, male, other, unknown (or F, M); recorded as unknown")
			}
		case "phone":
			if importkit.Digits(v) < importkit.MinPhoneDigits || strings.ContainsFunc(v, func(r rune) bool { return r >= 'A' && r <= 'z' && r != 'x' }) {
				bad(c, "the phone number is not a phone number (at least 7 digits)")
			} else {
				rec.Phone = v
			}
		case "email":
			if a, err := mail.ParseAddress(v); err != nil || a.Address != v || !strings.Contains(v[strings.LastIndex(v, "@")+1:], ".") {
				bad(c, "the e-mail address is not valid")
			} else {
				rec.Email = v
			}
		case "address.line1":
			addr.Line1 = v
		case "address.line2":
			addr.Line2 = v
		case "address.city":
			addr.City = v
		case "address.state":
			addr.State = v
		case "address.postal_code":
			addr.PostalCode = v
		case "address.country":
			addr.Country = v
		case "language":
			tag, ok := importkit.Language(v)
			if !ok {
				warn(c, "the language is not a known language code; it was not imported")
			} else {
				rec.Language = tag
			}
		case "status":
			s := strings.ToLower(v)
			switch s {
			case "onboarding", "active", "inactive", "churned":
				rec.Status = s
			default:
				bad(c, "the status is not one of onboarding, active, inactive, churned")
			}
		case "provider":
			rec.Provider = &sdk.Provider{Name: v, Role: "provider (CSV column)"}
		case "insurance.payer":
			ins.Payer = v
		case "insurance.member_id":
			ins.MemberID = v
		case "insurance.group":
			ins.Group = v
		}
	}
	for _, need := range []struct{ field, label string }{{"first_name", "first name"}, {"last_name", "last name"}} {
		if (need.field == "first_name" && rec.FirstName == "") || (need.field == "last_name" && rec.LastName == "") {
			c, ok := byF[need.field]
			if !ok {
				c = sdk.Column{Field: need.field, Header: "not mapped", Index: -1}
			}
			bad(c, "the "+need.label+" is missing")
		}
	}
	if addr != (sdk.Address{}) {
		rec.Address = &addr
	}
	if ins != (sdk.Insurance{}) {
		if ins.Payer == "" {
			rec.Problems = append(rec.Problems, sdk.Problem{Element: "insurance.payer", Message: "a member id without a payer; the payer is empty", Severity: sdk.SeverityWarning})
		}
		rec.Insurance = []sdk.Insurance{ins}
	}
	return rec
}

// PracticeMRNSystem is the identifier system of the practice's own MRN
// (pfinni's urn:pfinni:mrn): a CSV's MRN column is the practice's chart
// number, so a row matches the patient holding that MRN.
const PracticeMRNSystem = "urn:pfinni:mrn"

// dateLayouts are the birth-date spellings accepted, ISO first; US
// month-first before day-first (a day above 12 settles it).
var dateLayouts = []string{"2006-01-02", "2006/01/02", "01/02/2006", "1/2/2006", "02/01/2006", "2/1/2006",
	"01-02-2006", "1-2-2006", "02.01.2006", "2.1.2006", "20060102", "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05"}

func parseDate(v string) (time.Time, bool) {
	if len(v) > 40 {
		return time.Time{}, false
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
