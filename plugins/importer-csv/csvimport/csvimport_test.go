package csvimport

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/internal/importkit"
	"github.com/pfinni/pfinni/sdk"
)

func TestSynonyms(t *testing.T) {
	for header, field := range map[string]string{
		"Last Name": "last_name", "Surname": "last_name", "family": "last_name", "LAST_NAME": "last_name",
		"First Name": "first_name", "Given": "first_name", "Forename": "first_name",
		"DOB": "date_of_birth", "Birth Date": "date_of_birth", "Date of Birth": "date_of_birth",
		"MRN": "mrn", "Chart #": "mrn", "Patient ID": "mrn", "Medical Record Number": "mrn",
		"Phone": "phone", "Mobile": "phone", "Cell Phone": "phone",
		"E-mail": "email", "Email Address": "email",
		"Sex": "sex", "Gender": "sex",
		"Zip": "address.postal_code", "Postal code": "address.postal_code", "ZIP/Postal Code": "address.postal_code",
		"Address": "address.line1", "City": "address.city", "State": "address.state", "Country": "address.country",
		"Status": "status", "Provider": "provider", "PCP": "provider",
		"Insurance": "insurance.payer", "Member ID": "insurance.member_id", "Group #": "insurance.group",
		"Language": "language", "Preferred Name": "preferred_name", "Middle Name": "middle_name",
		"Favourite colour": "", "": "",
	} {
		assert.Equal(t, field, FieldOf(header), header)
	}
	for _, f := range synonyms {
		assert.Contains(t, sdk.TabularFields, f)
	}
}

func col(i int, header, field string) sdk.Column {
	return sdk.Column{Index: i, Header: header, Field: field}
}

func parse(t *testing.T, doc string, override map[string]string) sdk.ImportResult {
	t.Helper()
	res, err := Importer{}.Import(context.Background(), sdk.ImportRequest{Format: Format, Document: []byte(doc), Mapping: override})
	require.NoError(t, err)
	return res
}

func TestParseDialects(t *testing.T) {
	want := sdk.PatientRecord{MRN: "A1", Identifiers: []sdk.Identifier{{System: PracticeMRNSystem, Value: "A1", Type: "MR"}},
		FirstName: "Ann", LastName: "O'Neil, Jr", DateOfBirth: "1980-02-03", Sex: "female", SourceRef: "row 2"}
	for name, doc := range map[string]string{
		"comma":        "MRN,First Name,Surname,DOB,Gender\nA1,Ann,\"O'Neil, Jr\",1980-02-03,F\n",
		"bom crlf":     "\xEF\xBB\xBFChart #,Given,Family,Birth Date,Sex\r\nA1,Ann,\"O'Neil, Jr\",02/03/1980,female\r\n",
		"semicolon":    "mrn;first_name;last_name;dob;sex\n\n\nA1;Ann;O'Neil, Jr;1980-02-03;f\n\n",
		"tab":          "MRN\tFirst\tLast\tDOB\tSex\nA1\tAnn\tO'Neil, Jr\t1980-02-03\tF",
		"quoted quote": "MRN,First Name,Last Name,DOB,Sex\r\n\"A1\",\"Ann\",\"O'Neil, Jr\",\"1980-02-03\",\"F\"",
		"cr only":      "MRN,First Name,Last Name,DOB,Sex\rA1,Ann,\"O'Neil, Jr\",19800203,F\r",
	} {
		t.Run(name, func(t *testing.T) {
			res := parse(t, doc, nil)
			require.Len(t, res.Records, 1)
			assert.Equal(t, want, res.Records[0])
		})
	}
}

func TestMappingOverride(t *testing.T) {
	doc := "Col A,Col B,Nom,Né le\nX9,Zoe,Durand,1990-12-31\n"
	res := parse(t, doc, map[string]string{"Col A": "mrn", "col b": "first_name", "Nom": "last_name", "Né le": "date_of_birth"})
	require.Len(t, res.Records, 1)
	r := res.Records[0]
	assert.Equal(t, []string{"X9", "Zoe", "Durand", "1990-12-31"}, []string{r.MRN, r.FirstName, r.LastName, r.DateOfBirth})
	assert.Equal(t, []sdk.Column{col(0, "Col A", "mrn"), col(1, "Col B", "first_name"), col(2, "Nom", "last_name"), col(3, "Né le", "date_of_birth")}, res.Columns)

	// "" ignores a column the synonyms would map.
	res = parse(t, "Last Name,First Name,DOB\nDoe,Jo,bad\n", map[string]string{"DOB": ""})
	assert.Empty(t, res.Records[0].Problems)
	assert.Equal(t, "", res.Columns[2].Field)

	_, err := Importer{}.Import(context.Background(), sdk.ImportRequest{Format: Format, Document: []byte(doc), Mapping: map[string]string{"Col A": "shoe_size"}})
	assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
}

func TestRowValidation(t *testing.T) {
	doc := "MRN,First Name,Last Name,DOB,Sex,Email,Phone,Status,Zip,Provider,Insurance,Member ID,Language\n" +
		"1,Ann,Lee,1980-01-01,F,ann@example.org,555-123-4567,active,97201,Dr Who,Acme,M1,eng\n" +
		"2,,Lee,1980-13-45,F,not-an-email,12,zombie,,,,M2,xx-invalid-language-code\n" +
		"3,Bo,,2999-01-01,Q,,,,,,,,\n"
	res := parse(t, doc, nil)
	require.Len(t, res.Records, 3)
	ok := res.Records[0]
	assert.Empty(t, ok.Problems)
	assert.Equal(t, "active", ok.Status)
	assert.Equal(t, &sdk.Address{PostalCode: "97201"}, ok.Address)
	assert.Equal(t, "Dr Who", ok.Provider.Name)
	assert.Equal(t, []sdk.Insurance{{Payer: "Acme", MemberID: "M1"}}, ok.Insurance)
	assert.Equal(t, "en", ok.Language)

	elems := func(r sdk.PatientRecord, sev string) []string {
		var out []string
		for _, p := range r.Problems {
			if p.Severity == sev {
				out = append(out, p.Element)
			}
		}
		return out
	}
	assert.ElementsMatch(t, []string{`date_of_birth (column "DOB")`, `email (column "Email")`, `phone (column "Phone")`,
		`status (column "Status")`, `first_name (column "First Name")`}, elems(res.Records[1], sdk.SeverityError))
	assert.ElementsMatch(t, []string{`language (column "Language")`, "insurance.payer"}, elems(res.Records[1], sdk.SeverityWarning))
	assert.ElementsMatch(t, []string{`date_of_birth (column "DOB")`, `last_name (column "Last Name")`}, elems(res.Records[2], sdk.SeverityError))
	assert.ElementsMatch(t, []string{`sex (column "Sex")`}, elems(res.Records[2], sdk.SeverityWarning))
	for _, r := range res.Records {
		for _, p := range r.Problems {
			for _, v := range []string{"not-an-email", "1980-13-45", "zombie", "2999"} {
				assert.NotContains(t, p.Message+p.Element, v, "problems never quote values")
			}
		}
	}
}

func TestHostile(t *testing.T) {
	reject := func(doc string, reason string) {
		t.Helper()
		_, err := Importer{}.Import(context.Background(), sdk.ImportRequest{Format: Format, Document: []byte(doc)})
		require.Error(t, err)
		assert.Equal(t, reason, importkit.ReasonOf(err))
		assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
	}
	reject("", importkit.ReasonEmpty)
	reject("\n\n \n", importkit.ReasonEmpty)
	reject(strings.Repeat("a,", MaxColumns+5)+"\n", importkit.ReasonTooLarge)
	reject("\"Last Name,First\n", importkit.ReasonMalformed)
	res := parse(t, "Colour,Shoe\nred,9\n", nil)
	assert.Empty(t, res.Records)
	assert.Equal(t, []sdk.Column{col(0, "Colour", ""), col(1, "Shoe", "")}, res.Columns)
	assert.Equal(t, "header", res.Problems[len(res.Problems)-1].Element)
	reject("Last Name\n"+strings.Repeat("x\n", MaxRows+1), importkit.ReasonTooLarge)
	_, err := Importer{}.Import(context.Background(), sdk.ImportRequest{Format: Format, Document: []byte("Last Name\nx\n"), MaxBytes: 3})
	assert.Equal(t, importkit.ReasonTooLarge, importkit.ReasonOf(err))
	_, err = Importer{}.Import(context.Background(), sdk.ImportRequest{Format: "ccda", Document: []byte("Last Name\nx\n")})
	assert.Equal(t, importkit.ReasonWrongFormat, importkit.ReasonOf(err))

	// A huge cell, an unclosed quote, extra cells and invalid UTF-8 are
	// per-row problems; the other rows import.
	doc := "Last Name,First Name\n" +
		strings.Repeat("x", MaxCell*3) + ",Big\n" +
		"Ok,Row\n" +
		"M\xfcller,J\xf6rg,extra,extra\n" +
		"\"Open,Quote\n"
	res = parse(t, doc, nil)
	require.Len(t, res.Records, 4)
	assert.Equal(t, sdk.SeverityError, res.Records[0].Problems[0].Severity)
	assert.Contains(t, res.Records[0].Problems[0].Message, "longer than the limit")
	assert.Empty(t, res.Records[1].Problems)
	assert.Equal(t, "Müller", res.Records[2].LastName, "invalid UTF-8 is read as Windows-1252")
	assert.Equal(t, sdk.SeverityWarning, res.Records[2].Problems[0].Severity)
	assert.Contains(t, res.Records[3].Problems[0].Message, "not closed")
	assert.Equal(t, "document", res.Problems[0].Element)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Parse(ctx, []byte("Last Name\nx\n"), nil)
	assert.Equal(t, importkit.ReasonCanceled, importkit.ReasonOf(err))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"MRN,First Name,Last Name,DOB\n1,A,B,1980-01-01\n",
		"\xEF\xBB\xBFa;b;c\r\n\"x\"\"y\";2;3\r\n",
		"Last Name\n\"unterminated\n",
		"Last Name,First\n\"a\"b,c\n",
		strings.Repeat(",", 300),
		"Surname\tGiven\n\xff\xfe\x00\n",
		"Last Name\r\r\r\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		res, err := Parse(context.Background(), doc, nil)
		if err != nil {
			if sdk.CodeOf(err) != sdk.CodeInvalidInput {
				t.Fatalf("a document fault must be invalid_input, got %v", err)
			}
			return
		}
		for _, r := range res.Records {
			if r.SourceRef == "" {
				t.Fatal("every record names its row")
			}
		}
	})
}
