package importer

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/sdk"
)

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = []byte{0xFF, 0xFE}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16be(s string) []byte {
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name, format, reason string
		doc                  []byte
	}{
		{"ccda", FormatCCDA, "", []byte(`<?xml version="1.0"?><?xml-stylesheet href="cda.xsl"?><!-- c --><ClinicalDocument xmlns="urn:hl7-org:v3"/>`)},
		{"ccda prefix", FormatCCDA, "", []byte(`<hl7:ClinicalDocument xmlns:hl7="urn:hl7-org:v3"/>`)},
		{"ccda no namespace", FormatCCDA, "", []byte("\xEF\xBB\xBF<ClinicalDocument>\r\n</ClinicalDocument>")},
		{"latin1", FormatCCDA, "", []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\">\xe9</ClinicalDocument>")},
		{"fhir patient", FormatFHIRXML, "", []byte(`<Patient xmlns="http://hl7.org/fhir"/>`)},
		{"fhir bundle prefix", FormatFHIRXML, "", []byte(`<f:Bundle xmlns:f="http://hl7.org/fhir"/>`)},
		{"utf-16 bom", FormatFHIRXML, "", utf16le(`<?xml version="1.0" encoding="UTF-16"?><Patient xmlns="http://hl7.org/fhir"/>`, true)},
		{"utf-16 no bom", FormatFHIRXML, "", utf16le(`<Patient xmlns="http://hl7.org/fhir"/>`, false)},
		{"utf-16 be", FormatCCDA, "", utf16be(`<ClinicalDocument xmlns="urn:hl7-org:v3"/>`)},
		{"fhir observation", "", "root element is Observation (namespace http://hl7.org/fhir)", []byte(`<Observation xmlns="http://hl7.org/fhir"/>`)},
		{"cda wrong ns", "", "namespace urn:example", []byte(`<ClinicalDocument xmlns="urn:example"/>`)},
		{"fragment", "", "root element is recordTarget (no namespace)", []byte(`<recordTarget/>`)},
		{"entities", "", "declares entities", []byte(`<!DOCTYPE x [<!ENTITY a "b">]><x/>`)},
		{"external", "", "external definition", []byte(`<!DOCTYPE x SYSTEM "http://evil/x.dtd"><x/>`)},
		{"plain doctype", "", "has a DOCTYPE", []byte(`<!DOCTYPE html><html/>`)},
		{"text", "", "not an XML document", []byte("hello world")},
		{"csv", FormatCSV, "", []byte("hello, world")},
		{"blank", "", "empty", []byte(" \n ")},
		{"no root", "", "no root element", []byte(`<?xml version="1.0"?><!-- only a comment -->`)},
		{"broken", "", "not a well-formed", []byte(`<a <b>`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sniff(tt.doc)
			if tt.reason != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.format, got)
		})
	}
	// Only the start of a large document is read.
	big := append([]byte(`<Patient xmlns="http://hl7.org/fhir">`), bytes.Repeat([]byte("<x/>"), 1<<20)...)
	f, err := sniff(big)
	require.NoError(t, err)
	assert.Equal(t, FormatFHIRXML, f)
}

func zipOf(t *testing.T, entries map[string][]byte, method uint16) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestExpandZip(t *testing.T) {
	doc := []byte(`<Patient xmlns="http://hl7.org/fhir"/>`)
	bomb := bytes.Repeat([]byte{'a'}, 3<<20)
	data := zipOf(t, map[string][]byte{
		"ok/a.xml": doc, "../up.xml": doc, "a/../../b.xml": doc, "/abs.xml": doc, `C:\win.xml`: doc,
		"inner.zip": doc, "dir/": nil, "big.xml": bytes.Repeat([]byte("x"), 2000), "bomb.xml": bomb,
	}, zip.Deflate)
	got := map[string]Input{}
	for _, in := range ExpandZip("up.zip", data, 1000) {
		got[in.Name] = in
	}
	assert.Equal(t, doc, got["up.zip/ok/a.xml"].Data)
	assert.Contains(t, got["up.zip/../up.xml"].Refused, "climbs out")
	assert.Contains(t, got["up.zip/a/../../b.xml"].Refused, "climbs out")
	assert.Contains(t, got["up.zip/abs.xml"].Refused, "absolute path")
	assert.Contains(t, got["up.zip/C:/win.xml"].Refused, "absolute path")
	assert.Contains(t, got["up.zip/inner.zip"].Refused, "archives inside archives")
	assert.Contains(t, got["up.zip/big.xml"].Refused, "larger than the limit")
	assert.Contains(t, got["up.zip/bomb.xml"].Refused, "larger than the limit")
	_, dir := got["up.zip/dir/"]
	assert.False(t, dir)

	// A bomb under the size limit is caught by its compression ratio.
	in := ExpandZip("bomb.zip", zipOf(t, map[string][]byte{"b.xml": bomb}, zip.Deflate), 10<<20)
	require.Len(t, in, 1)
	assert.Contains(t, in[0].Refused, "compressed more than")

	// Damaged and oversized archives become one refused input.
	in = ExpandZip("bad.zip", []byte("PK\x03\x04 not really"), 1000)
	require.Len(t, in, 1)
	assert.Contains(t, in[0].Refused, "cannot be opened")
	in = ExpandZip("huge.zip", make([]byte, 30000), 1000)
	require.Len(t, in, 1)
	assert.Contains(t, in[0].Refused, "larger than the limit")

	// ExpandInputs expands archives by name or content and keeps the rest.
	out := ExpandInputs([]Input{{Name: "x.xml", Data: doc}, {Name: "noext", Data: zipOf(t, map[string][]byte{"y.xml": doc}, zip.Store)}}, 1000)
	require.Len(t, out, 2)
	assert.Equal(t, "noext/y.xml", out[1].Name)
	assert.True(t, IsArchiveName("A.ZIP"))
}

func TestCollect(t *testing.T) {
	dir := t.TempDir()
	doc := []byte(`<Patient xmlns="http://hl7.org/fhir"/>`)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "b", ".git"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b", "2.xml"), doc, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b", ".git", "x.xml"), doc, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.xml"), doc, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.xml"), bytes.Repeat([]byte("x"), 2000), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.zip"), zipOf(t, map[string][]byte{"z.xml": doc}, zip.Deflate), 0o644))
	ins, err := Collect([]string{dir, filepath.Join(dir, "a.xml")}, 1000)
	require.NoError(t, err)
	var names []string
	for _, in := range ins {
		names = append(names, strings.TrimPrefix(in.Name, filepath.ToSlash(dir)+"/"))
	}
	assert.Equal(t, []string{"a.xml", "b/2.xml", "big.xml", "c.zip/z.xml", "a.xml"}, names)
	assert.Contains(t, ins[2].Refused, "2.0 KB, larger than the limit of 1000 bytes")
	_, err = Collect([]string{filepath.Join(dir, "missing")}, 1000)
	assert.Error(t, err)
	_, err = Collect([]string{t.TempDir()}, 1000)
	assert.ErrorIs(t, err, ErrNoFiles)
	assert.Equal(t, "1.5 MB", human(3<<19))
}

func TestConflicts(t *testing.T) {
	p := &patient.Patient{FirstName: "Isabella", LastName: "Jones", DateOfBirth: "1975-05-01", Sex: "female"}
	tests := []struct {
		name string
		in   patient.Input
		want []string
	}{
		{"same", patient.Input{FirstName: "ISABELLA", LastName: "jones", DateOfBirth: "1975-05-01", Sex: "female"}, nil},
		{"partial date agrees", patient.Input{FirstName: "Isabella", LastName: "Jones", DateOfBirth: "1975"}, nil},
		{"middle name", patient.Input{FirstName: "Isabella Grace", LastName: "Jones", Sex: "unknown"}, nil},
		{"accents", patient.Input{FirstName: "Isabélla", LastName: "Jones-"}, nil},
		{"married name", patient.Input{FirstName: "Isabella", LastName: "Smith", DateOfBirth: "1975-05-01", Sex: "female"}, nil},
		{"date of birth", patient.Input{FirstName: "Isabella", LastName: "Jones", DateOfBirth: "1945-05-01"}, []string{"date of birth"}},
		{"other person", patient.Input{FirstName: "Wilma", LastName: "Crawford"}, []string{"first name", "last name"}},
		{"name and sex", patient.Input{FirstName: "Isaac", LastName: "Jones", Sex: "male"}, []string{"first name", "sex"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, conflicts(p, tt.in)) })
	}
	assert.Equal(t, "s", plural([]string{"date of birth"}))
	assert.Equal(t, "", plural([]string{"first name", "last name"}))
	assert.Equal(t, "a, b and c", joinAnd([]string{"a", "b", "c"}))
	assert.Equal(t, "", joinAnd(nil))
	assert.True(t, namesAgree("", "x"))
}

func TestDiff(t *testing.T) {
	p := &patient.Patient{FirstName: "Ann", LastName: "Lee", Sex: "female", Phone: "555-0100", Email: "a@x.org",
		Address: patient.Address{Line1: "1 Main St", City: "Springfield"}, Identifiers: []patient.Identifier{{System: "s", Value: "1"}},
		Insurance: patient.Insurance{Payer: "Acme", MemberID: "M1"}}
	// The document says nothing new: unchanged (an empty value never clears).
	_, changed := diff(p, patient.Input{FirstName: "Ann", LastName: "Lee", Sex: "unknown", Identifiers: []patient.Identifier{{System: "s", Value: "1"}}})
	assert.False(t, changed)
	pt, changed := diff(p, patient.Input{FirstName: "Ann", LastName: "Lee", Phone: "555-0199", MiddleNames: []string{"B"},
		Address: patient.Address{Line1: "2 Elm St", City: "Springfield"}, Insurance: patient.Insurance{Payer: "Acme", MemberID: "M2"},
		Identifiers: []patient.Identifier{{System: "s", Value: "2"}}, Sex: "male", Race: []string{"White"}, ProviderID: "pr_1"})
	require.True(t, changed)
	assert.Equal(t, "555-0199", *pt.Phone)
	assert.Nil(t, pt.Email)
	assert.Equal(t, "2 Elm St", *pt.Address.Line1)
	assert.Equal(t, "", *pt.Address.Line2)
	assert.Equal(t, "M2", *pt.Insurance.MemberID)
	assert.Len(t, *pt.Identifiers, 2)
	assert.Equal(t, "male", *pt.Sex)
	assert.Equal(t, []string{"B"}, *pt.MiddleNames)
	assert.Equal(t, "pr_1", *pt.ProviderID)
}

func TestDropInvalid(t *testing.T) {
	in := patient.Input{FirstName: "A", LastName: "B", Phone: "x", Email: "y", DateOfBirth: "1800-01-01", Sex: "male",
		MiddleNames: []string{"m"}, PreferredName: "p", Language: "l", MaritalStatus: "M", Race: []string{"r"}, Ethnicity: []string{"e"},
		ProviderID: "pr", Identifiers: []patient.Identifier{{Value: "1"}}, Address: patient.Address{Line1: "l"}, Insurance: patient.Insurance{Payer: "p"}}
	var f fault.Fields
	for _, name := range []string{"phone", "email", "date_of_birth", "sex", "middle_names", "preferred_name", "language",
		"marital_status", "race", "ethnicity", "provider_id", "identifiers", "address.line1", "insurance.payer"} {
		f.Add(name, "is wrong")
	}
	probs, fatal := dropInvalid(&in, f, FormatCCDA)
	assert.False(t, fatal)
	assert.Len(t, probs, len(f))
	assert.Equal(t, patient.Input{FirstName: "A", LastName: "B", Sex: "unknown"}, in)
	assert.Equal(t, "recordTarget/patientRole/telecom", probs[0].Element)
	assert.Equal(t, "phone is wrong; it was not imported (the kept document has it)", probs[0].Message)
	probs, fatal = dropInvalid(&in, fault.Fields{{Field: "mrn", Message: "must be 1-64 letters"}}, FormatFHIRXML)
	assert.True(t, fatal)
	assert.Equal(t, "Patient/identifier", probs[0].Element)
	assert.Equal(t, "sdk", elementOf("other", "sdk"))
	assert.Equal(t, "Patient/generalPractitioner", elementOf(FormatFHIRXML, "provider_id"))
	assert.Equal(t, "Coverage", elementOf(FormatFHIRXML, "insurance.group"))
}

func TestToInput(t *testing.T) {
	in, probs := toInput(sdk.PatientRecord{MRN: " 7 ", FirstName: "A", LastName: "B", Sex: "weird", DateOfBirth: "1957",
		Address:     &sdk.Address{Line1: "1 Main"},
		Insurance:   []sdk.Insurance{{}, {Payer: "Acme", MemberID: "9"}},
		Identifiers: []sdk.Identifier{{Value: ""}, {System: "s", Value: "7", Type: "MR"}}, Deceased: true},
		FormatCCDA, `C:\exports\`+strings.Repeat("x", 300)+".xml")
	assert.Equal(t, "7", in.MRN)
	assert.Equal(t, "unknown", in.Sex)
	assert.Empty(t, in.DateOfBirth)
	assert.Equal(t, "Acme", in.Insurance.Payer)
	assert.Len(t, in.Identifiers, 1)
	assert.Len(t, in.Source, 200)
	assert.Equal(t, patient.StatusOnboarding, in.Status)
	require.Len(t, probs, 2)
	assert.Equal(t, "recordTarget/patientRole/patient/birthTime", probs[0].Element)
}

func TestImporterReason(t *testing.T) {
	assert.Equal(t, "the root is wrong", importerReason(FormatCCDA, &sdk.Error{Code: sdk.CodeInvalidInput, Message: "the root is wrong"}))
	assert.Contains(t, importerReason(FormatCCDA, plugin.ErrNoPlugin), "no importer plugin for C-CDA is enabled")
	assert.Contains(t, importerReason(FormatFHIRXML, plugin.ErrNoPlugin), "FHIR XML")
	assert.Contains(t, importerReason("x", context.DeadlineExceeded), "took too long")
	assert.Contains(t, importerReason("x", errors.New(strings.Repeat("trap ", 100))), "the importer plugin failed")
	assert.Equal(t, "x", formatName("x"))
}

func TestProviderKey(t *testing.T) {
	assert.Equal(t, providerKey("Dr. Henry Seven, MD"), providerKey("SEVEN, HENRY"))
	assert.NotEqual(t, providerKey("Henry Seven"), providerKey("Henry Eight"))
	assert.Equal(t, "", providerKey("Dr."))
}

func TestNewAndOptions(t *testing.T) {
	_, err := New(Deps{}, Options{})
	assert.Error(t, err)
	o := Options{}.withDefaults()
	assert.Equal(t, int64(10<<20), o.MaxBytes)
	assert.Equal(t, 30*time.Second, o.LeaseTTL)
	assert.NotEmpty(t, o.Instance)
}
