package ccda

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/internal/importkit"
	"github.com/pfinni/pfinni/sdk"
)

const shared = "../../../../shared/testdata/ccda"

// cda builds a minimal ClinicalDocument around a patientRole body.
func cda(role, header, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="CDA.xsl"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:sdtc="urn:hl7-org:sdtc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<id root="1.2.3" extension="doc1"/>
<recordTarget><patientRole>` + role + `</patientRole></recordTarget>` + header +
		`<component><structuredBody>` + body + `</structuredBody></component></ClinicalDocument>`
}

func parse(t *testing.T, doc string) sdk.PatientRecord {
	t.Helper()
	res, err := Parse(context.Background(), sdk.ImportRequest{Document: []byte(doc)})
	require.NoError(t, err)
	require.Len(t, res.Records, 1)
	return res.Records[0]
}

func messages(r sdk.PatientRecord) string {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString(p.Severity + ": " + p.Element + ": " + p.Message + "\n")
	}
	return b.String()
}

func TestParseTS(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"1957", "1957", true},
		{"195703", "1957-03", true},
		{"19570323", "1957-03-23", true},
		{"1957032312", "1957-03-23", true},
		{"195703231230", "1957-03-23", true},
		{"19400805120000", "1940-08-05", true},
		{"19540323000000.000-0600", "1954-03-23", true},
		{"20130815223615+0100", "2013-08-15", true},
		{" 19620828 ", "1962-08-28", true},
		{"19570230", "", false}, // 30 February
		{"19571301", "", false}, // month 13
		{"195", "", false},      // too short
		{"1957032", "", false},  // odd length
		{"19570323256000", "", false},
		{"1957-03-23", "", false}, // ISO, not HL7
		{"20120119000000.", "", false},
		{"19540323.5", "", false},  // fraction without seconds
		{"19540323-06", "", false}, // short zone
		{"0000", "", false},
		{"", "", false},
		{"UNK", "", false},
	}
	for _, tc := range tests {
		got, ok := ParseTS(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestRejections(t *testing.T) {
	tests := []struct{ name, doc, reason, msg string }{
		{"fhir", `<Patient xmlns="http://hl7.org/fhir"/>`, importkit.ReasonWrongFormat, "use the FHIR importer"},
		{"other ns", `<ClinicalDocument xmlns="urn:example"/>`, importkit.ReasonWrongFormat, "urn:example"},
		{"fragment", `<recordTarget/>`, importkit.ReasonWrongFormat, "no namespace"},
		{"no recordTarget", `<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1"/></ClinicalDocument>`, importkit.ReasonNoPatient, "no recordTarget"},
		{"no patientRole", `<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget/></ClinicalDocument>`, importkit.ReasonNoPatient, "no patientRole"},
		{"entities", `<!DOCTYPE ClinicalDocument [<!ENTITY x "y">]><ClinicalDocument xmlns="urn:hl7-org:v3">&x;</ClinicalDocument>`, importkit.ReasonDTD, "entit"},
		{"malformed", `<ClinicalDocument xmlns="urn:hl7-org:v3">`, importkit.ReasonMalformed, "not well-formed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(context.Background(), sdk.ImportRequest{Document: []byte(tc.doc)})
			require.Error(t, err)
			assert.Equal(t, tc.reason, importkit.ReasonOf(err))
			assert.Contains(t, err.Error(), tc.msg)
			assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Importer{}.Import(ctx, sdk.ImportRequest{Document: []byte(cda("", "", ""))})
	assert.Equal(t, importkit.ReasonCanceled, importkit.ReasonOf(err))
	_, err = Parse(context.Background(), sdk.ImportRequest{Document: []byte(cda("", "", "")), MaxBytes: 100})
	assert.Equal(t, importkit.ReasonTooLarge, importkit.ReasonOf(err))
}

func TestDemographics(t *testing.T) {
	role := `<id root="2.16.840.1.113883.4.1" extension="999-99-9999"/>
<id nullFlavor="NI"/>
<id root="1.2.840.99" extension="A100" assigningAuthorityName="Acme Patient Account"/>
<id root="1.2.840.55" extension="MRN-7" assigningAuthorityName="Acme MRN"/>
<addr use="OLD"><streetAddressLine>1 Old Rd</streetAddressLine><city>Was</city></addr>
<addr use="HP"><streetAddressLine>2 Home St</streetAddressLine><streetAddressLine nullFlavor="UNK"/><streetAddressLine>Apt 3</streetAddressLine><streetAddressLine>Rear</streetAddressLine>
  <postalCode>61550-</postalCode><state>IL</state><city>No City Indicated</city><country>US</country></addr>
<telecom nullFlavor="UNK"/><telecom/>
<telecom use="WP" value="tel:+1-503"/>
<telecom use="HP" value="tel:+1(555)555-2003"/>
<telecom use="MC" value="555-723-1544"/>
<telecom value="mailto://A.B@EXAMPLE.ORG"/>
<patient>
 <name use="SRCH"><given>Eve</given><family qualifier="BR">Everywoman</family></name>
 <name use="L"><prefix>Ms.</prefix><given>Eve</given><given>Marie</given><given qualifier="CL">Evie</given><given>null</given>
   <family qualifier="SP">Betterhalf</family><family qualifier="BR">Everywoman</family><suffix nullFlavor="UNK"/><suffix qualifier="AC">PhD</suffix></name>
 <name use="P"><given qualifier="CL">Dee</given><family>Jones</family></name>
 <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/>
 <birthTime xsi:type="IVL_TS"><low value="197505"/></birthTime>
 <maritalStatusCode code="Single"/>
 <raceCode code="2106-3" displayName="WHITE"/><sdtc:raceCode code="2028-9"/><sdtc:raceCode code="2106-3"/><raceCode nullFlavor="UNK"/>
 <ethnicGroupCode nullFlavor="ASKU"/><sdtc:ethnicGroupCode code="2186-5" displayName="Not Hispanic"/>
 <guardian><guardianPerson><name><given>Not</given><family>Patient</family></name></guardianPerson></guardian>
 <languageCommunication><languageCode code="ita"/></languageCommunication>
 <languageCommunication><languageCode code="ENG"/><preferenceInd value="true"/></languageCommunication>
 <sdtc:deceasedInd value="true"/><sdtc:deceasedTime value="20200102"/>
</patient>
<providerOrganization><id root="1.2.840.55"/><name>Acme Clinic</name></providerOrganization>`
	header := `<author><assignedAuthor><id root="1.2"/><assignedAuthoringDevice><softwareName>EHR</softwareName></assignedAuthoringDevice></assignedAuthor></author>
<author><assignedAuthor><id root="2.16.840.1.113883.4.6" extension="1234567893"/><telecom value="tel:12"/><telecom value="tel:+1(555)555-1004"/>
 <assignedPerson><name><prefix>Dr.</prefix><given>Pat</given><family>Primary</family><suffix>MD</suffix></name></assignedPerson></assignedAuthor></author>`
	r := parse(t, cda(role, header, ""))
	assert.Equal(t, "MRN-7", r.MRN, "assigningAuthorityName naming an MRN wins")
	assert.Equal(t, []sdk.Identifier{
		{System: "2.16.840.1.113883.4.1", Value: "999-99-9999", Type: "SS"},
		{System: "1.2.840.99", Value: "A100", Assigner: "Acme Patient Account"},
		{System: "1.2.840.55", Value: "MRN-7", Type: "MR", Assigner: "Acme MRN"},
	}, r.Identifiers)
	assert.Equal(t, "Eve", r.FirstName)
	assert.Equal(t, []string{"Marie"}, r.MiddleNames)
	assert.Equal(t, "Betterhalf", r.LastName)
	assert.Equal(t, "Ms.", r.Prefix)
	assert.Equal(t, "PhD", r.Suffix)
	assert.Equal(t, "Evie", r.PreferredName)
	assert.Equal(t, []sdk.Name{
		{Use: "birth", Given: []string{"Eve", "Marie"}, Family: "Everywoman"},
		{Use: "search", Given: []string{"Eve"}, Family: "Everywoman"},
		{Use: "nickname", Given: []string{"Dee"}, Family: "Jones"},
	}, r.OtherNames)
	assert.Equal(t, "1975-05", r.DateOfBirth)
	assert.Equal(t, "female", r.Sex)
	assert.Equal(t, "S", r.MaritalStatus)
	assert.Equal(t, []string{"White", "Asian"}, r.Race)
	assert.Equal(t, []string{"Not Hispanic or Latino"}, r.Ethnicity)
	assert.Equal(t, "en", r.Language)
	assert.True(t, r.Deceased)
	assert.Equal(t, "2020-01-02", r.DeceasedDate)
	assert.Equal(t, &sdk.Address{Use: "home", Line1: "2 Home St", Line2: "Apt 3, Rear", State: "IL", PostalCode: "61550", Country: "US"}, r.Address)
	assert.Equal(t, "+1(555)555-2003", r.Phone)
	assert.Equal(t, "A.B@EXAMPLE.ORG", r.Email)
	assert.Len(t, r.Telecoms, 4)
	assert.Equal(t, &sdk.Provider{Name: "Dr. Pat Primary, MD", NPI: "1234567893", Phone: "+1(555)555-1004", Organization: "Acme Clinic", Role: "author"}, r.Provider)
	assert.Equal(t, "1.2.3^doc1", r.SourceRef)
	msgs := messages(r)
	assert.Contains(t, msgs, "placeholder word")
	assert.Contains(t, msgs, "placeholder instead of a value")
	assert.Contains(t, msgs, "too short to be a phone number")
	assert.NotContains(t, msgs, "999", "problems never carry PHI")
}

func TestMRNRule(t *testing.T) {
	tests := []struct {
		name, ids, org, want, warn string
		errs                       bool
	}{
		{"org root", `<id root="9.9" extension="X"/><id root="1.5" extension="Y"/>`, `<id root="1.5"/>`, "Y", "", false},
		{"first local", `<id root="9.9" extension="X"/><id root="1.5" extension="Y"/>`, ``, "X", "", false},
		{"direct address skipped", `<id root="1.1" extension="me@direct.example.org"/><id root="1.5" extension="Y"/>`, ``, "Y", "", false},
		{"npi over ssn", `<id root="2.16.840.1.113883.4.1" extension="S"/><id root="2.16.840.1.113883.4.6" extension="N"/>`, ``, "N", "no local record number", false},
		{"drivers licence", `<id root="2.16.840.1.113883.4.3.25" extension="D"/>`, ``, "D", "no local record number", false},
		{"ssn only", `<id root="2.16.840.1.113883.4.1" extension="T-1"/>`, ``, "T-1", "Social Security", false},
		{"root only", `<id root="2.16.840.1.113883.3.6585.1.1"/>`, ``, "2.16.840.1.113883.3.6585.1.1", "root but no extension", false},
		{"none (a warning: the host sends it to review)", `<id nullFlavor="NI"/>`, ``, "", "warning: recordTarget/patientRole/id: patientRole has no usable id", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := parse(t, cda(tc.ids+`<patient><name><given>A</given><family>B</family></name></patient><providerOrganization>`+tc.org+`</providerOrganization>`, "", ""))
			assert.Equal(t, tc.want, r.MRN)
			assert.Contains(t, messages(r), tc.warn)
			if tc.errs {
				assert.Contains(t, messages(r), "error:")
			}
		})
	}
}

func TestOddPatients(t *testing.T) {
	t.Run("no patient element", func(t *testing.T) {
		r := parse(t, cda(`<id root="1" extension="2"/>`, "", ""))
		assert.Contains(t, messages(r), "no patient element")
		assert.Contains(t, messages(r), "no name")
		assert.Equal(t, "unknown", r.Sex)
		assert.Nil(t, r.Provider)
	})
	t.Run("free-text name, bad codes", func(t *testing.T) {
		r := parse(t, cda(`<id root="1" extension="2"/><addr>12 Free Text Lane</addr><addr/><patient><name nullFlavor="UNK"/><name>  John  Quincy   Public </name>
<administrativeGenderCode code="X"/><birthTime value="19571301"/><maritalStatusCode code="Q"/>
<languageCommunication><languageCode nullFlavor="UNK"/></languageCommunication><languageCommunication><languageCode code="zz-123456789"/></languageCommunication>
<sdtc:deceasedTime value="garbage"/></patient>`, "", ""))
		assert.Equal(t, "John", r.FirstName)
		assert.Equal(t, []string{"Quincy"}, r.MiddleNames)
		assert.Equal(t, "Public", r.LastName)
		assert.Equal(t, "unknown", r.Sex)
		assert.Empty(t, r.DateOfBirth)
		assert.Empty(t, r.MaritalStatus)
		assert.Equal(t, "zz-123456789", r.Language)
		assert.Equal(t, &sdk.Address{Line1: "12 Free Text Lane"}, r.Address)
		m := messages(r)
		for _, want := range []string{"split by position", "not an HL7 administrative gender", "birthTime value is not a valid date",
			"not an HL7 marital status", "not a recognised language", "deceasedTime value is not a valid date"} {
			assert.Contains(t, m, want)
		}
		assert.NotContains(t, m, "19571301")
	})
	t.Run("gender and birth variants", func(t *testing.T) {
		r := parse(t, cda(`<id root="1" extension="2"/><patient><name><given qualifier="CL">Bo</given><family qualifier="BR">Born</family></name>
<administrativeGenderCode displayName="Male"/><birthTime value=""/><sdtc:birthTime value="19000101"/></patient>`, "", ""))
		assert.Equal(t, "Bo", r.FirstName)
		assert.Empty(t, r.PreferredName)
		assert.Equal(t, "Born", r.LastName)
		assert.Equal(t, "male", r.Sex)
		assert.Empty(t, r.DateOfBirth)
		assert.Contains(t, messages(r), "birthTime has no value")
	})
	t.Run("UN and nullFlavor", func(t *testing.T) {
		r := parse(t, cda(`<id root="1" extension="2"/><patient><name><family>Solo</family></name><administrativeGenderCode code="UN"/><birthTime nullFlavor="UNK"/></patient>`, "", ""))
		assert.Equal(t, "other", r.Sex)
		assert.Equal(t, "Solo", r.LastName)
		r = parse(t, cda(`<id root="1" extension="2"/><patient><name><family>Solo</family></name><administrativeGenderCode nullFlavor="UNK"/></patient>`, "", ""))
		assert.Equal(t, "unknown", r.Sex)
	})
	t.Run("several recordTargets, no namespace", func(t *testing.T) {
		doc := `<ClinicalDocument><recordTarget><patientRole><id root="1" extension="a"/></patientRole></recordTarget><recordTarget><patientRole><id root="1" extension="b"/></patientRole></recordTarget></ClinicalDocument>`
		res, err := Parse(context.Background(), sdk.ImportRequest{Document: []byte(doc)})
		require.NoError(t, err)
		require.Len(t, res.Records, 1)
		assert.Equal(t, "a", res.Records[0].MRN)
		require.Len(t, res.Problems, 2)
		assert.Contains(t, res.Problems[0].Message, "no namespace")
		assert.Contains(t, res.Problems[1].Message, "only the first patient")
	})
	t.Run("prefixed root", func(t *testing.T) {
		doc := `<hl7:ClinicalDocument xmlns:hl7="urn:hl7-org:v3"><hl7:recordTarget><hl7:patientRole><hl7:id root="1" extension="p"/><hl7:patient><hl7:name><hl7:given>Pre</hl7:given><hl7:family>Fixed</hl7:family></hl7:name></hl7:patient></hl7:patientRole></hl7:recordTarget></hl7:ClinicalDocument>`
		r := parse(t, doc)
		assert.Equal(t, "p", r.MRN)
		assert.Equal(t, "Pre", r.FirstName)
	})
}

func TestProviderChoice(t *testing.T) {
	role := `<id root="1" extension="2"/><patient><name><given>A</given><family>B</family></name></patient><providerOrganization><name>Home Org</name></providerOrganization>`
	perf := func(fc, name string) string {
		return `<performer typeCode="PRF">` + fc + `<assignedEntity><id root="2.16.840.1.113883.4.6" extension="UNK"/><assignedPerson><name>` + name + `</name></assignedPerson>
<representedOrganization><name>Perf Org</name></representedOrganization></assignedEntity></performer>`
	}
	tests := []struct {
		name, header string
		want         *sdk.Provider
	}{
		{"pcp wins", `<documentationOf><serviceEvent>` + perf(`<functionCode code="ATTPHYS" displayName="Attending Physician"/>`, `<given>Att</given><family>One</family>`) +
			perf(`<functionCode code="PCP"/>`, `<given>Pcp</given><family>Two</family>`) + `</serviceEvent></documentationOf>`,
			&sdk.Provider{Name: "Pcp Two", Organization: "Perf Org", Role: "primary care physician"}},
		{"first performer, original text", `<documentationOf><serviceEvent>` + perf(`<functionCode code="X"><originalText>Care Team Lead</originalText></functionCode>`, `<given>Lead</given><family>Three</family>`) + `</serviceEvent></documentationOf>`,
			&sdk.Provider{Name: "Lead Three", Organization: "Perf Org", Role: "care team lead"}},
		{"plain performer", `<documentationOf><serviceEvent>` + perf(``, `<given qualifier="CL">Cal</given><family>Four</family>`) + perf(``, `<family>Five</family>`) + `</serviceEvent></documentationOf>`,
			&sdk.Provider{Name: "Cal Four", Organization: "Perf Org", Role: "performer"}},
		{"performer without a name falls back to org", `<documentationOf><serviceEvent>` + perf(``, ``) + `</serviceEvent></documentationOf>`,
			&sdk.Provider{Name: "Home Org", Organization: "Home Org", Role: "provider organization"}},
		{"text name", `<documentationOf><serviceEvent>` + perf(``, `Dr Free Text`) + `</serviceEvent></documentationOf>`,
			&sdk.Provider{Name: "Dr Free Text", Organization: "Perf Org", Role: "performer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := parse(t, cda(role, tc.header, ""))
			assert.Equal(t, tc.want, r.Provider)
		})
	}
	r := parse(t, cda(`<id root="1" extension="2"/>`, "", ""))
	assert.Nil(t, r.Provider)
}

func TestInsurance(t *testing.T) {
	role := `<id root="1" extension="2"/><patient><name><given>A</given><family>B</family></name></patient>`
	policy := func(id, payer, member string) string {
		return `<act classCode="ACT" moodCode="EVN"><templateId root="2.16.840.1.113883.10.20.22.4.61"/>` + id +
			`<performer typeCode="PRF"><templateId root="2.16.840.1.113883.10.20.22.4.88"/><assignedEntity><code code="GUAR"/><representedOrganization><name>Guarantor</name></representedOrganization></assignedEntity></performer>` +
			payer +
			`<participant typeCode="HLD"><participantRole><id extension="holder"/></participantRole></participant>` +
			`<participant typeCode="COV"><participantRole><id nullFlavor="NI"/>` + member + `<playingEntity><name>Payers excluded/not available</name><birthTime xmlns="urn:hl7-org:sdtc" nullFlavor="NI"/></playingEntity></participantRole></participant></act>`
	}
	payer := func(name string) string {
		return `<performer typeCode="PRF"><templateId root="2.16.840.1.113883.10.20.22.4.87"/><assignedEntity><representedOrganization>` + name + `</representedOrganization></assignedEntity></performer>`
	}
	section := func(tmpl, entries string) string {
		return `<component><section>` + tmpl + `<title>Payers</title><text>narrative</text>` + entries + `</section></component>`
	}
	cov := func(pols ...string) string {
		s := `<entry><act><templateId root="2.16.840.1.113883.10.20.22.4.60"/>`
		for _, p := range pols {
			s += `<entryRelationship typeCode="COMP">` + p + `</entryRelationship>`
		}
		return s + `</act></entry>`
	}
	body := `<component><section><templateId root="2.16.840.1.113883.10.20.22.2.5.1"/><entry><act><id extension="not insurance"/></act></entry></section></component>` +
		section(`<templateId root="2.16.840.1.113883.10.20.22.2.18" extension="2015-08-01"/>`, cov(
			policy(`<id root="x" extension="GRP-1"/>`, payer(`<name>Good Health</name>`), `<id root="y" extension="M-1"/>`),
			policy(`<id root="x" extension="GRP-1"/>`, payer(`<name>Good Health</name>`), `<id root="y" extension="M-1"/>`), // duplicate
			policy(`<id nullFlavor="NI"/>`, payer(`<name nullFlavor="NI"/>`), ``),                                           // all null: skipped
			policy(``, payer(`<name></name>`), `<id extension="M-2"/>`),                                                     // no payer name
		)) +
		section(`<code code="48768-6"/>`, `<entry><act><id extension="G3"/><performer><assignedEntity><code code="PAYOR"/><representedOrganization><name>Direct Policy Co</name></representedOrganization></assignedEntity></performer></act></entry>`) +
		`<component><section nullFlavor="NI"><templateId root="2.16.840.1.113883.10.20.1.9"/><entry><act><performer><assignedEntity><representedOrganization><name>Ignored</name></representedOrganization></assignedEntity></performer></act></entry></section></component>`
	r := parse(t, cda(role, "", body))
	assert.Equal(t, []sdk.Insurance{
		{Payer: "Good Health", MemberID: "M-1", Group: "GRP-1"},
		{MemberID: "M-2"},
		{Payer: "Direct Policy Co", Group: "G3"},
	}, r.Insurance)
	assert.Contains(t, messages(r), "no payer name")
}

// TestFragments wraps the HL7 header fragments (recordTarget snippets
// without a namespace) in a ClinicalDocument and checks what they teach.
func TestFragments(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(shared, "hl7-c-cda-examples/fragments", name))
		if err != nil {
			t.Skip("shared samples not present")
		}
		s := string(b)
		if i := strings.Index(s, "?>"); strings.HasPrefix(s, "<?xml") && i > 0 {
			s = s[i+2:]
		}
		return `<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:sdtc="urn:hl7-org:sdtc">` + s + `</ClinicalDocument>`
	}
	r := parse(t, read("multiple_patient_identifiers_c-cdar2.1.xml"))
	assert.Equal(t, "12345", r.MRN)
	assert.Len(t, r.Identifiers, 4)
	assert.Equal(t, "Linda", r.FirstName)

	r = parse(t, read("patient_aliases_c-cda_r2.1.xml"))
	assert.Equal(t, "Deirdre", r.FirstName)
	assert.Equal(t, "Dee", r.PreferredName)
	assert.Contains(t, messages(r), "no usable id")

	r = parse(t, read("patient_deceased_extensionc-cda2.1.xml"))
	assert.True(t, r.Deceased)

	r = parse(t, read("patient_with_prior_addressesc-cdar2.1.xml"))
	require.NotNil(t, r.Address)

	r = parse(t, read("patient_birth_namec-cda2.1.xml"))
	assert.NotEmpty(t, r.LastName)

	r = parse(t, read("patient_demographic_informationc-cda2.1.xml"))
	assert.NotEmpty(t, r.DateOfBirth)
}
