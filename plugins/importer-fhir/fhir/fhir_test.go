package fhir

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/internal/importkit"
	"github.com/pfinni/pfinni/sdk"
)

func parseDoc(t *testing.T, doc string) sdk.ImportResult {
	t.Helper()
	res, err := Parse(context.Background(), sdk.ImportRequest{Document: []byte(doc)})
	require.NoError(t, err)
	return res
}

func messages(r sdk.PatientRecord) string {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString(p.Severity + ": " + p.Element + ": " + p.Message + "\n")
	}
	return b.String()
}

func patient(inner string) string {
	return `<Patient xmlns="http://hl7.org/fhir"><id value="p1"/>` + inner + `</Patient>`
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{"1957": "1957", "1957-03": "1957-03", "1957-03-23": "1957-03-23", "1974-12-25T14:35:45-05:00": "1974-12-25"} {
		got, ok := ParseDate(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"", "57", "1957-13", "1957-02-30", "19570323", "0000", "abcd"} {
		_, ok := ParseDate(in)
		assert.False(t, ok, in)
	}
	assert.Equal(t, "1957-03-23", applyAccuracy("1957-03-23", "AAA"))
	assert.Equal(t, "1957-03", applyAccuracy("1957-03-23", "UAA"))
	assert.Equal(t, "1957", applyAccuracy("1957-03-23", "UUA"))
	assert.Equal(t, "", applyAccuracy("1957-03-23", "AAU"))
	assert.Equal(t, "1957-03-23", applyAccuracy("1957-03-23", "weird"))
}

func TestRejections(t *testing.T) {
	tests := []struct{ name, doc, reason, msg string }{
		{"cda", `<ClinicalDocument xmlns="urn:hl7-org:v3"/>`, importkit.ReasonWrongFormat, "use the C-CDA importer"},
		{"other resource", `<Observation xmlns="http://hl7.org/fhir"/>`, importkit.ReasonWrongFormat, "Observation"},
		{"no namespace", `<Patient/>`, importkit.ReasonWrongFormat, "no namespace"},
		{"json namespace", `<Patient xmlns="urn:x"/>`, importkit.ReasonWrongFormat, "urn:x"},
		{"bundle without patient", `<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Observation/></resource></entry><entry/><entry><resource><x:Patient xmlns:x="urn:x"/></resource></entry></Bundle>`, importkit.ReasonNoPatient, "no Patient"},
		{"xxe", `<!DOCTYPE Patient [<!ENTITY x SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir">&x;</Patient>`, importkit.ReasonDTD, "entit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(context.Background(), sdk.ImportRequest{Document: []byte(tc.doc)})
			require.Error(t, err)
			assert.Equal(t, tc.reason, importkit.ReasonOf(err))
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Importer{}.Import(ctx, sdk.ImportRequest{Document: []byte(patient(""))})
	assert.Equal(t, importkit.ReasonCanceled, importkit.ReasonOf(err))
}

func TestPatientDemographics(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<fhir:Patient xmlns:fhir="http://hl7.org/fhir" xmlns:xhtml="http://www.w3.org/1999/xhtml"><fhir:id value="p9"/>
<fhir:text><fhir:status value="generated"/><xhtml:div><xhtml:p>narrative</xhtml:p></xhtml:div></fhir:text>
<fhir:extension url="http://hl7.org/fhir/us/core/StructureDefinition/us-core-race">
 <fhir:extension url="ombCategory"><fhir:valueCoding><fhir:code value="2106-3"/><fhir:display value="WHITE"/></fhir:valueCoding></fhir:extension>
 <fhir:extension url="detailed"><fhir:valueCoding><fhir:code value="2114-7"/><fhir:display value="Italian"/></fhir:valueCoding></fhir:extension>
 <fhir:extension url="text"><fhir:valueString value="White, Italian"/></fhir:extension></fhir:extension>
<fhir:extension url="http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity">
 <fhir:extension url="text"><fhir:valueString value="Declined"/></fhir:extension></fhir:extension>
<fhir:extension url="http://example.org/unknown"><fhir:valueString value="ignored"/></fhir:extension>
<fhir:identifier><fhir:system value="http://hl7.org/fhir/sid/us-ssn"/><fhir:value value="999-99-9999"/></fhir:identifier>
<fhir:identifier><fhir:use value="old"/><fhir:system value="urn:old"/><fhir:value value="OLD-1"/></fhir:identifier>
<fhir:identifier><fhir:type><fhir:coding><fhir:system value="http://example.org/other"/><fhir:code value="LOCAL"/></fhir:coding></fhir:type><fhir:system value="urn:x"/><fhir:value value="X-1"/></fhir:identifier>
<fhir:identifier><fhir:use value="usual"/><fhir:system value="urn:clinic"/><fhir:value value="C-7"/><fhir:assigner><fhir:display value="Clinic"/></fhir:assigner></fhir:identifier>
<fhir:identifier><fhir:system value="urn:empty"/></fhir:identifier>
<fhir:name><fhir:use value="maiden"/><fhir:family value="Before"/><fhir:given value="Ann"/></fhir:name>
<fhir:name><fhir:use value="official"/><fhir:prefix value="Dr"/><fhir:prefix value="Prof"/><fhir:given value="Ann"/><fhir:given value="null"/><fhir:given value="Marie"/><fhir:family value="After"/><fhir:suffix value="III"/></fhir:name>
<fhir:name><fhir:use value="nickname"/><fhir:given value="Annie"/></fhir:name>
<fhir:name><fhir:text value="Ann M. After"/></fhir:name>
<fhir:name/>
<fhir:telecom><fhir:use value="home"/></fhir:telecom>
<fhir:telecom><fhir:system value="phone"/><fhir:value value="tel:555-0100-200"/><fhir:period><fhir:end value="2010"/></fhir:period></fhir:telecom>
<fhir:telecom><fhir:system value="sms"/><fhir:value value="+1 555 010 0300"/><fhir:use value="mobile"/></fhir:telecom>
<fhir:telecom><fhir:value value="mailto:ann@example.org"/></fhir:telecom>
<fhir:telecom><fhir:system value="weird"/><fhir:value value="12"/></fhir:telecom>
<fhir:gender value="female"/>
<fhir:birthDate value="1980-02-29"><fhir:extension url="http://hl7.org.au/fhir/StructureDefinition/date-accuracy-indicator"><fhir:valueCoding><fhir:code value="UAA"/></fhir:valueCoding></fhir:extension></fhir:birthDate>
<fhir:deceasedDateTime value="2020-05-06T10:00:00Z"/>
<fhir:address><fhir:use value="old"/><fhir:line value="1 Old"/></fhir:address>
<fhir:address><fhir:text value="Somewhere free text"/></fhir:address>
<fhir:address><fhir:use value="home"/><fhir:line value="2 Home"/><fhir:line value="Unit 4"/><fhir:city value="Town"/><fhir:postalCode value="1234"/><fhir:country value="AU"/><fhir:period><fhir:start value="2001"/></fhir:period></fhir:address>
<fhir:address/>
<fhir:maritalStatus><fhir:coding><fhir:code value="M"/></fhir:coding></fhir:maritalStatus>
<fhir:communication><fhir:language><fhir:coding><fhir:code value="it"/></fhir:coding></fhir:language></fhir:communication>
<fhir:communication><fhir:language><fhir:text value="no code"/></fhir:language></fhir:communication>
<fhir:communication><fhir:language><fhir:coding><fhir:code value="en-AU"/></fhir:coding></fhir:language><fhir:preferred value="true"/></fhir:communication>
</fhir:Patient>`
	res := parseDoc(t, doc)
	require.Len(t, res.Records, 1)
	r := res.Records[0]
	assert.Equal(t, "C-7", r.MRN)
	assert.Len(t, r.Identifiers, 4)
	assert.Equal(t, sdk.Identifier{System: "urn:clinic", Value: "C-7", Assigner: "Clinic"}, r.Identifiers[3])
	assert.Equal(t, "SS", r.Identifiers[0].Type)
	assert.Equal(t, "LOCAL", r.Identifiers[2].Type)
	assert.Equal(t, "Ann", r.FirstName)
	assert.Equal(t, []string{"Marie"}, r.MiddleNames)
	assert.Equal(t, "After", r.LastName)
	assert.Equal(t, "Dr Prof", r.Prefix)
	assert.Equal(t, "III", r.Suffix)
	assert.Equal(t, "Annie", r.PreferredName)
	require.Len(t, r.OtherNames, 3)
	assert.Equal(t, sdk.Name{Family: "Ann M. After"}, r.OtherNames[2])
	assert.Equal(t, "1980-02", r.DateOfBirth)
	assert.Equal(t, "female", r.Sex)
	assert.True(t, r.Deceased)
	assert.Equal(t, "2020-05-06", r.DeceasedDate)
	assert.Equal(t, &sdk.Address{Use: "home", Line1: "2 Home", Line2: "Unit 4", City: "Town", PostalCode: "1234", Country: "AU"}, r.Address)
	assert.Equal(t, "+1 555 010 0300", r.Phone)
	assert.Equal(t, "ann@example.org", r.Email)
	assert.Equal(t, []sdk.Telecom{
		{System: "phone", Value: "555-0100-200", Use: "old"},
		{System: "phone", Value: "+1 555 010 0300", Use: "mobile"},
		{System: "email", Value: "ann@example.org"},
		{System: "phone", Value: "12"},
	}, r.Telecoms)
	assert.Equal(t, "M", r.MaritalStatus)
	assert.Equal(t, "en-AU", r.Language)
	assert.Equal(t, []string{"White", "Italian"}, r.Race)
	assert.Equal(t, []string{"Declined"}, r.Ethnicity)
	assert.Equal(t, "Patient/p9", r.SourceRef)
	m := messages(r)
	assert.Contains(t, m, "date accuracy")
	assert.Contains(t, m, "too short")
	assert.NotContains(t, m, "1980")
}

func TestPatientOddities(t *testing.T) {
	tests := []struct {
		name, inner string
		check       func(t *testing.T, r sdk.PatientRecord)
	}{
		{"text-only name, bad values", `<identifier><value value="1"/></identifier><name><text value="Single"/></name><gender value="asdf"/><birthDate value="1957-02-30"/>
<maritalStatus><coding><code value="ZZ"/></coding><text value="it is complicated"/></maritalStatus><communication><language><coding><code value="zz-123456789"/></coding></language></communication>
<deceasedDateTime value="never"/>`, func(t *testing.T, r sdk.PatientRecord) {
			assert.Equal(t, "Single", r.LastName)
			assert.Equal(t, "unknown", r.Sex)
			assert.Empty(t, r.DateOfBirth)
			assert.True(t, r.Deceased)
			assert.Empty(t, r.DeceasedDate)
			m := messages(r)
			for _, want := range []string{"split by position", "gender value", "birthDate value is not a valid date", "marital status", "language code", "deceasedDateTime value"} {
				assert.Contains(t, m, want)
			}
		}},
		{"marital text, empty name", `<identifier><type><coding><system value="http://terminology.hl7.org/CodeSystem/v2-0203"/><code value="MC"/></coding></type><value value="MC-1"/></identifier>
<name><use value="usual"/></name><maritalStatus><text value="Widowed"/></maritalStatus><deceasedBoolean value="true"/><deceasedDateTime/>
<birthDate value="1950"><extension url="http://hl7.org.au/fhir/StructureDefinition/date-accuracy-indicator"><valueCoding><code value="UUU"/></valueCoding></extension></birthDate>`, func(t *testing.T, r sdk.PatientRecord) {
			assert.Equal(t, "MC-1", r.MRN)
			assert.Equal(t, "W", r.MaritalStatus)
			assert.True(t, r.Deceased)
			assert.Empty(t, r.DateOfBirth)
			assert.Contains(t, messages(r), "no parts")
			assert.Contains(t, messages(r), "national or insurance")
		}},
		{"ssn only", `<identifier><system value="urn:oid:2.16.840.1.113883.4.1"/><value value="123"/></identifier><gender value="other"/>`, func(t *testing.T, r sdk.PatientRecord) {
			assert.Equal(t, "123", r.MRN)
			assert.Equal(t, "other", r.Sex)
			assert.Contains(t, messages(r), "social security")
		}},
		{"no identifier", `<name><family value="Nobody"/></name>`, func(t *testing.T, r sdk.PatientRecord) {
			assert.Empty(t, r.MRN)
			assert.Contains(t, messages(r), "warning: Patient/identifier", "the host sends it to review")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := parseDoc(t, patient(tc.inner))
			require.Len(t, res.Records, 1)
			tc.check(t, res.Records[0])
		})
	}
}

const bundleDoc = `<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>
<entry><fullUrl value="urn:uuid:pat-a"/><resource><Patient><id value="a"/>
  <identifier><type><coding><code value="MR"/></coding></type><value value="MR-A"/></identifier><name><family value="Alpha"/><given value="Al"/></name>
  <generalPractitioner><reference value="PractitionerRole/pr1"/></generalPractitioner>
  <managingOrganization><reference value="Organization/org2"/></managingOrganization></Patient></resource></entry>
<entry><fullUrl value="http://example.org/fhir/Patient/b"/><resource><Patient><id value="b"/>
  <identifier><value value="MR-B"/></identifier><name><family value="Beta"/></name>
  <generalPractitioner><reference value="Organization/org1"/></generalPractitioner>
  <generalPractitioner><reference value="http://example.org/fhir/Practitioner/doc2/_history/3"/></generalPractitioner></Patient></resource></entry>
<entry><resource><Patient><id value="c"/><identifier><value value="MR-C"/></identifier>
  <contained><Practitioner><id value="gp"/><name><text value="Dr Contained"/></name></Practitioner></contained>
  <generalPractitioner><reference value="#gp"/></generalPractitioner></Patient></resource></entry>
<entry><resource><Patient><id value="d"/><identifier><value value="MR-D"/></identifier>
  <generalPractitioner><reference value="Practitioner/missing"/><display value="Dr Display"/></generalPractitioner></Patient></resource></entry>
<entry><resource><Patient><id value="e"/><identifier><value value="MR-E"/></identifier>
  <generalPractitioner><reference value="Organization/missing"/><display value="Display Org"/></generalPractitioner>
  <managingOrganization><display value="Managing Display"/></managingOrganization></Patient></resource></entry>
<entry><fullUrl value="urn:uuid:pr1"/><resource><PractitionerRole><id value="pr1"/><practitioner><reference value="Practitioner/doc1"/></practitioner><organization><display value="Role Org"/></organization></PractitionerRole></resource></entry>
<entry><resource><Practitioner><id value="doc1"/><identifier><system value="http://hl7.org/fhir/sid/us-npi"/><value value="1234567893"/></identifier>
  <name><prefix value="Dr"/><given value="Gina"/><family value="Practice"/><suffix value="MD"/></name><telecom><system value="email"/><value value="x@y"/></telecom><telecom><system value="phone"/><value value="555-0101"/></telecom></Practitioner></resource></entry>
<entry><resource><Practitioner><id value="doc2"/><name><given value="Second"/><family value="Doc"/></name></Practitioner></resource></entry>
<entry><resource><Organization><id value="org1"/><name value="First Org"/></Organization></resource></entry>
<entry><resource><Organization><id value="org2"/><name value="Second Org"/></Organization></resource></entry>
<entry><resource><Coverage><status value="active"/><beneficiary><reference value="urn:uuid:pat-a"/></beneficiary><subscriberId value="SUB-1"/>
  <payor><reference value="Organization/org1"/></payor><class><type><coding><code value="group"/></coding></type><value value="G-9"/></class><class><type><coding><code value="plan"/></coding></type><value value="P"/></class></Coverage></resource></entry>
<entry><resource><Coverage><status value="cancelled"/><beneficiary><reference value="urn:uuid:pat-a"/></beneficiary><subscriberId value="OLD"/></Coverage></resource></entry>
<entry><resource><Coverage><beneficiary><reference value="Patient/b"/></beneficiary><identifier><value value="ID-1"/></identifier><identifier><type><coding><code value="MB"/></coding></type><value value="MB-2"/></identifier>
  <payor><display value="Display Payer"/></payor></Coverage></resource></entry>
<entry><resource><Coverage><beneficiary><reference value="Patient/b"/></beneficiary><identifier><value value="NO-PAYER"/></identifier></Coverage></resource></entry>
<entry><resource><Coverage><beneficiary><reference value="Patient/b"/></beneficiary></Coverage></resource></entry>
</Bundle>`

func TestBundle(t *testing.T) {
	res := parseDoc(t, bundleDoc)
	require.Len(t, res.Records, 5)
	a, b, c, d, e := res.Records[0], res.Records[1], res.Records[2], res.Records[3], res.Records[4]
	assert.Equal(t, "MR-A", a.MRN)
	assert.Equal(t, "urn:uuid:pat-a", a.SourceRef)
	assert.Equal(t, &sdk.Provider{Name: "Dr Gina Practice, MD", NPI: "1234567893", Phone: "555-0101", Organization: "Role Org", Role: "general practitioner"}, a.Provider)
	assert.Equal(t, []sdk.Insurance{{Payer: "First Org", MemberID: "SUB-1", Group: "G-9"}}, a.Insurance)

	assert.Equal(t, "http://example.org/fhir/Patient/b", b.SourceRef)
	assert.Equal(t, &sdk.Provider{Name: "Second Doc", Organization: "First Org", Role: "general practitioner"}, b.Provider)
	assert.Equal(t, []sdk.Insurance{{Payer: "Display Payer", MemberID: "MB-2"}, {MemberID: "NO-PAYER"}}, b.Insurance)
	assert.Contains(t, messages(b), "no payer name")

	assert.Equal(t, "Patient/c", c.SourceRef)
	assert.Equal(t, &sdk.Provider{Name: "Dr Contained", Role: "general practitioner"}, c.Provider)
	assert.Equal(t, &sdk.Provider{Name: "Dr Display", Role: "general practitioner"}, d.Provider)
	assert.Equal(t, &sdk.Provider{Name: "Display Org", Organization: "Display Org", Role: "managing organization"}, e.Provider)
	assert.Empty(t, c.Insurance)
}

func TestDocumentBundleAuthor(t *testing.T) {
	doc := `<Bundle xmlns="http://hl7.org/fhir"><type value="document"/>
<entry><fullUrl value="urn:uuid:comp"/><resource><Composition><subject><reference value="urn:uuid:pat"/></subject>
  <author><reference value="urn:uuid:dev"/></author><author><reference value="urn:uuid:role"/></author></Composition></resource></entry>
<entry><fullUrl value="urn:uuid:pat"/><resource><Patient><identifier><value value="P1"/></identifier><managingOrganization><reference value="urn:uuid:org"/></managingOrganization></Patient></resource></entry>
<entry><fullUrl value="urn:uuid:dev"/><resource><Device/></resource></entry>
<entry><fullUrl value="urn:uuid:role"/><resource><PractitionerRole><practitioner><reference value="urn:uuid:doc"/></practitioner><organization><reference value="urn:uuid:org"/></organization></PractitionerRole></resource></entry>
<entry><fullUrl value="urn:uuid:doc"/><resource><Practitioner><name><given value="Auth"/><family value="Or"/></name></Practitioner></resource></entry>
<entry><fullUrl value="urn:uuid:org"/><resource><Organization><name value="Doc Org"/></Organization></resource></entry>
<entry><resource><Coverage><subscriberId value="S"/><payor><reference value="urn:uuid:org"/></payor></Coverage></resource></entry>
</Bundle>`
	res := parseDoc(t, doc)
	require.Len(t, res.Records, 1)
	r := res.Records[0]
	assert.Equal(t, &sdk.Provider{Name: "Auth Or", Organization: "Doc Org", Role: "author"}, r.Provider)
	assert.Equal(t, []sdk.Insurance{{Payer: "Doc Org", MemberID: "S"}}, r.Insurance, "a Coverage without beneficiary belongs to the only patient")

	res = parseDoc(t, patient(`<identifier><value value="1"/></identifier><managingOrganization><reference value="Organization/x"/><display value="Shown"/></managingOrganization>`))
	assert.Equal(t, &sdk.Provider{Name: "Shown", Organization: "Shown", Role: "managing organization"}, res.Records[0].Provider)
	res = parseDoc(t, patient(`<identifier><value value="1"/></identifier>`))
	assert.Nil(t, res.Records[0].Provider)
}
