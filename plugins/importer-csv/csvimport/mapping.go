package csvimport

import (
	"slices"
	"strings"
	"unicode"

	"github.com/pfinni/pfinni/sdk"
)

// synonyms maps a normalised header (lower case, letters and digits
// only: "Last Name", "last_name" and "LAST-NAME" are all "lastname") to
// the patient field it names. Spreadsheets from practice systems, EHR
// exports and hand-made lists all spell these differently.
var synonyms = map[string]string{}

func init() {
	for field, names := range map[string][]string{
		"mrn": {"mrn", "medicalrecordnumber", "medicalrecordno", "medicalrecord", "chart", "chartno", "chartnumber",
			"chartid", "patientid", "patientnumber", "patientno", "recordnumber", "accountnumber", "accountno", "pid"},
		"first_name":     {"firstname", "first", "givenname", "given", "forename", "fname", "patientfirstname"},
		"middle_name":    {"middlename", "middle", "middleinitial", "mi", "secondname"},
		"last_name":      {"lastname", "last", "surname", "familyname", "family", "lname", "patientlastname"},
		"preferred_name": {"preferredname", "nickname", "prefername", "callme", "knownas"},
		"date_of_birth": {"dateofbirth", "dob", "birthdate", "birthday", "born", "dateborn", "birth",
			"patientdob", "birthdt"},
		"sex":                 {"sex", "gender", "administrativegender", "sexatbirth", "birthsex"},
		"phone":               {"phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone", "cell", "cellphone", "homephone", "phoneno", "contactnumber"},
		"email":               {"email", "emailaddress", "mail", "emails"},
		"address.line1":       {"address", "address1", "addressline1", "street", "streetaddress", "line1", "addr1", "addr"},
		"address.line2":       {"address2", "addressline2", "line2", "addr2", "apt", "suite", "unit"},
		"address.city":        {"city", "town", "locality"},
		"address.state":       {"state", "province", "region", "st"},
		"address.postal_code": {"zip", "zipcode", "postalcode", "postcode", "postal", "zippostalcode", "zippostal"},
		"address.country":     {"country", "countrycode", "nation"},
		"language":            {"language", "preferredlanguage", "lang", "languagespoken"},
		"status":              {"status", "patientstatus", "workflowstatus"},
		"provider":            {"provider", "providername", "pcp", "primarycareprovider", "primarycarephysician", "physician", "doctor", "assignedprovider", "clinician", "renderingprovider"},
		"insurance.payer":     {"insurance", "payer", "payor", "insurancecompany", "insurancename", "carrier", "plan", "insuranceplan"},
		"insurance.member_id": {"memberid", "membernumber", "subscriberid", "policynumber", "policyid", "insuranceid", "memberno"},
		"insurance.group":     {"group", "groupnumber", "groupno", "groupid", "insurancegroup"},
	} {
		for _, n := range names {
			if _, dup := synonyms[n]; dup {
				panic("csvimport: synonym " + n + " names two fields") // a programming error, caught by every test
			}
			synonyms[n] = field
		}
	}
}

// normalise folds a header for the synonyms table.
func normalise(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FieldOf returns the patient field a header names, or "".
func FieldOf(header string) string {
	return synonyms[normalise(header)]
}

// mapColumns maps the header to fields: the override first (by the
// exact header text, or its normalised form), then the synonyms. A
// field claimed by an earlier column is not mapped twice.
func mapColumns(header []string, override map[string]string) []sdk.Column {
	byNorm := map[string]string{}
	for h, f := range override {
		byNorm[normalise(h)] = f
	}
	cols := make([]sdk.Column, len(header))
	taken := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		field, ok := override[h]
		if !ok {
			field, ok = byNorm[normalise(h)]
		}
		if !ok {
			field = FieldOf(h)
		}
		if field != "" && taken[field] {
			field = ""
		}
		if field != "" {
			taken[field] = true
		}
		cols[i] = sdk.Column{Index: i, Header: h, Field: field}
	}
	return cols
}

// checkOverride refuses a mapping that names an unknown field.
func checkOverride(override map[string]string) (string, bool) {
	for h, f := range override {
		if f != "" && !slices.Contains(sdk.TabularFields, f) {
			return h, false
		}
	}
	return "", true
}
