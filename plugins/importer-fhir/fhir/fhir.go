// Package fhir reads FHIR R4 XML — a Patient resource, or a Bundle holding
// one or more Patients — into patient records, one per Patient. Inside a
// Bundle it resolves generalPractitioner, managingOrganization, Coverage
// and Composition.author references to the Practitioner, PractitionerRole
// and Organization entries of the same Bundle. See docs/import.md.
package fhir

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pfinni/pfinni/plugins/internal/importkit"
	"github.com/pfinni/pfinni/plugins/internal/xmlsafe"
	"github.com/pfinni/pfinni/sdk"
)

const (
	// NS is the FHIR namespace.
	NS = "http://hl7.org/fhir"
	// Format is the ImportRequest.Format this importer serves.
	Format = "fhir-xml"

	sysV20203   = "http://terminology.hl7.org/CodeSystem/v2-0203"
	sysNPI      = "http://hl7.org/fhir/sid/us-npi"
	extUSRace   = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
	extUSEthn   = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
	extAccuracy = "http://hl7.org.au/fhir/StructureDefinition/date-accuracy-indicator"
)

// Identifier types (HL7 v2 table 0203) that name a national, insurance or
// other non-practice number: kept, but the MRN only as a last resort.
var nationalTypes = map[string]bool{
	"NI": true, "NH": true, "NNxxx": true, "SS": true, "SB": true, "MC": true, "MA": true,
	"HC": true, "DL": true, "PPN": true, "PEN": true, "SEN": true, "DVG": true, "DVA": true,
	"MB": true, "SN": true, "CZ": true, "BCT": true, "TAX": true, "NPI": true, "WC": true,
}

// Systems that carry national person numbers.
var nationalSystems = map[string]string{
	"http://hl7.org/fhir/sid/us-ssn":                       "SS",
	"urn:oid:2.16.840.1.113883.4.1":                        "SS",
	"http://hl7.org/fhir/sid/us-npi":                       "NPI",
	"urn:oid:2.16.840.1.113883.4.6":                        "NPI",
	"http://hl7.org/fhir/sid/us-mbi":                       "MC",
	"urn:oid:2.16.840.1.113883.2.4.6.3":                    "NI", // Dutch BSN
	"http://fhir.nl/fhir/NamingSystem/bsn":                 "NI",
	"https://fhir.nhs.uk/Id/nhs-number":                    "NH",
	"http://ns.electronichealth.net.au/id/hi/ihi/1.0":      "NI",
	"http://ns.electronichealth.net.au/id/medicare-number": "MC",
}

// Importer implements sdk.Importer.
type Importer struct{}

// Import implements sdk.Importer.
func (Importer) Import(ctx context.Context, req sdk.ImportRequest) (sdk.ImportResult, error) {
	return Parse(ctx, req)
}

// Parse reads one FHIR XML document. A document that is not a readable
// Patient or Bundle with at least one Patient returns an
// *importkit.Rejection (also an *sdk.Error with sdk.CodeInvalidInput).
func Parse(ctx context.Context, req sdk.ImportRequest) (sdk.ImportResult, error) {
	var res sdk.ImportResult
	if err := ctx.Err(); err != nil {
		return res, importkit.Reject(importkit.ReasonCanceled, fmt.Errorf("import canceled: %w", err))
	}
	doc, err := importkit.ParseXML(req)
	if err != nil {
		return res, err
	}
	res.Problems = importkit.DocProblems(doc)
	root := doc.Root
	if root.Space != NS || (root.Local != "Patient" && root.Local != "Bundle") {
		return res, importkit.Reject(importkit.ReasonWrongFormat, fmt.Errorf("the root element is %s, not a FHIR Patient or Bundle (http://hl7.org/fhir)", describe(root)))
	}
	b := &bundle{byRef: map[string]*xmlsafe.Node{}}
	var patients []entry
	if root.Local == "Patient" {
		patients = []entry{{res: root, ref: "Patient/" + val(root, "id")}}
		b.index(root, "")
	} else {
		for _, e := range root.All(NS, "entry") {
			r := e.Child(NS, "resource")
			if r == nil || len(r.Children) == 0 {
				continue
			}
			rr := r.Children[0]
			if rr.Space != NS {
				continue
			}
			full := val(e, "fullUrl")
			b.index(rr, full)
			if rr.Local == "Patient" {
				ref := full
				if ref == "" {
					ref = "Patient/" + val(rr, "id")
				}
				patients = append(patients, entry{res: rr, ref: ref})
			}
		}
		for _, e := range root.All(NS, "entry") {
			if r := e.Child(NS, "resource"); r != nil && len(r.Children) > 0 {
				switch r.Children[0].Local {
				case "Coverage":
					b.coverages = append(b.coverages, r.Children[0])
				case "Composition":
					b.compositions = append(b.compositions, r.Children[0])
				}
			}
		}
	}
	if len(patients) == 0 {
		return res, importkit.Reject(importkit.ReasonNoPatient, fmt.Errorf("the Bundle has no Patient resource"))
	}
	for _, pt := range patients {
		if err := ctx.Err(); err != nil {
			return sdk.ImportResult{}, importkit.Reject(importkit.ReasonCanceled, fmt.Errorf("import canceled: %w", err))
		}
		p := &parser{b: b, single: len(patients) == 1}
		res.Records = append(res.Records, p.record(pt))
	}
	return res, nil
}

func describe(n *xmlsafe.Node) string {
	switch n.Space {
	case "":
		return n.Local + " (no namespace)"
	case "urn:hl7-org:v3":
		return n.Local + " (HL7 v3/CDA; use the C-CDA importer)"
	}
	return n.Local + " (" + n.Space + ")"
}

type entry struct {
	res *xmlsafe.Node
	ref string
}

// bundle indexes the resources of a Bundle for reference resolution.
type bundle struct {
	byRef        map[string]*xmlsafe.Node
	coverages    []*xmlsafe.Node
	compositions []*xmlsafe.Node
}

func (b *bundle) index(r *xmlsafe.Node, fullURL string) {
	if fullURL != "" {
		b.byRef[fullURL] = r
	}
	if id := val(r, "id"); id != "" {
		b.byRef[r.Local+"/"+id] = r
	}
	for _, ct := range r.All(NS, "contained") {
		for _, c := range ct.Children {
			if id := val(c, "id"); id != "" {
				b.byRef["#"+id] = c
			}
		}
	}
}

// resolve finds the resource a Reference points to: by full URL, by
// "Type/id", or by the "Type/id" tail of an absolute URL.
func (b *bundle) resolve(ref *xmlsafe.Node) *xmlsafe.Node {
	r := strings.TrimSpace(val(ref, "reference"))
	if r == "" {
		return nil
	}
	if n := b.byRef[r]; n != nil {
		return n
	}
	if i := strings.Index(r, "/_history/"); i >= 0 {
		r = r[:i]
	}
	parts := strings.Split(r, "/")
	if len(parts) >= 2 {
		return b.byRef[parts[len(parts)-2]+"/"+parts[len(parts)-1]]
	}
	return nil
}

// val returns the @value of the child element local.
func val(n *xmlsafe.Node, local string) string {
	return strings.TrimSpace(n.Child(NS, local).Attr("value"))
}

type parser struct {
	b      *bundle
	single bool
	pr     importkit.Problems
}

func (p *parser) record(e entry) sdk.PatientRecord {
	pt := e.res
	rec := sdk.PatientRecord{Sex: "unknown", SourceRef: e.ref}
	p.identifiers(&rec, pt)
	p.names(&rec, pt)
	p.birth(&rec, pt)
	p.gender(&rec, pt)
	p.telecoms(&rec, pt)
	rec.Address = address(pt.All(NS, "address"))
	p.marital(&rec, pt)
	p.language(&rec, pt)
	p.raceEthnicity(&rec, pt)
	p.deceased(&rec, pt)
	rec.Provider = p.provider(pt)
	rec.Insurance = p.insurance(pt)
	rec.Problems = p.pr.List
	return rec
}

// ---- identifiers and the MRN rule ----

const (
	tierMR       = iota // type MR
	tierInternal        // type PI/PT, or use usual/official
	tierLocal           // anything else that is not national
	tierNational        // national / insurance numbers
	tierSSN             // social security numbers
)

func identType(id *xmlsafe.Node) string {
	codings := id.Child(NS, "type").All(NS, "coding")
	for _, c := range codings {
		if strings.Contains(val(c, "system"), "v2-0203") && val(c, "code") != "" {
			return val(c, "code")
		}
	}
	for _, c := range codings {
		if code := val(c, "code"); code != "" {
			return code
		}
	}
	return ""
}

func (p *parser) identifiers(rec *sdk.PatientRecord, pt *xmlsafe.Node) {
	best, bestTier := -1, 99
	for _, id := range pt.All(NS, "identifier") {
		v := val(id, "value")
		if v == "" {
			continue
		}
		ident := sdk.Identifier{System: val(id, "system"), Value: v, Type: identType(id),
			Assigner: xmlsafe.Collapse(id.Child(NS, "assigner").Child(NS, "display").Attr("value"))}
		natType := nationalSystems[ident.System]
		if ident.Type == "" && natType != "" {
			ident.Type = natType
		}
		use := val(id, "use")
		tier := tierLocal
		switch {
		case use == "old":
			tier = tierNational + 0 // an old number: only if nothing better
		case ident.Type == "SS" || natType == "SS":
			tier = tierSSN
		case ident.Type == "MR":
			tier = tierMR
		case nationalTypes[ident.Type] || natType != "":
			tier = tierNational
		case ident.Type == "PI" || ident.Type == "PT" || use == "usual" || use == "official":
			tier = tierInternal
		}
		rec.Identifiers = append(rec.Identifiers, ident)
		if tier < bestTier {
			best, bestTier = len(rec.Identifiers)-1, tier
		}
	}
	if best < 0 {
		// Not an error: the host sends a record without identifier to
		// its review queue, where a person decides who it is.
		p.pr.Warn("Patient/identifier", "the Patient has no identifier with a value, so there is no MRN to match the patient by")
		return
	}
	rec.MRN = rec.Identifiers[best].Value
	switch bestTier {
	case tierSSN:
		p.pr.Warn("Patient/identifier", "the only identifier is a social security number; it was used as the MRN")
	case tierNational:
		p.pr.Warn("Patient/identifier", "the Patient has no local record number; a national or insurance number was used as the MRN")
	}
}

// ---- names ----

func readName(n *xmlsafe.Node) sdk.Name {
	nm := sdk.Name{Use: val(n, "use"), Family: val(n, "family")}
	for _, g := range n.All(NS, "given") {
		if v := xmlsafe.Collapse(g.Attr("value")); v != "" && !importkit.IsPlaceholder(v) {
			nm.Given = append(nm.Given, v)
		}
	}
	var pre, suf []string
	for _, x := range n.All(NS, "prefix") {
		if v := xmlsafe.Collapse(x.Attr("value")); v != "" {
			pre = append(pre, v)
		}
	}
	for _, x := range n.All(NS, "suffix") {
		if v := xmlsafe.Collapse(x.Attr("value")); v != "" {
			suf = append(suf, v)
		}
	}
	nm.Prefix, nm.Suffix = strings.Join(pre, " "), strings.Join(suf, " ")
	nm.Family = xmlsafe.Collapse(nm.Family)
	return nm
}

func (p *parser) names(rec *sdk.PatientRecord, pt *xmlsafe.Node) {
	nodes := pt.All(NS, "name")
	if len(nodes) == 0 {
		p.pr.Warn("Patient/name", "the Patient has no name")
		return
	}
	rank := func(use string) int {
		switch use {
		case "official":
			return 0
		case "usual":
			return 1
		case "":
			return 2
		case "old", "maiden":
			return 9
		}
		return 5
	}
	primary := 0
	for i, n := range nodes {
		if rank(val(n, "use")) < rank(val(nodes[primary], "use")) {
			primary = i
		}
	}
	main := readName(nodes[primary])
	if len(main.Given) == 0 && main.Family == "" {
		if t := xmlsafe.Collapse(val(nodes[primary], "text")); t != "" {
			p.pr.Warn("Patient/name", "the name has only text, without given and family parts; it was split by position")
			f := strings.Fields(t)
			main.Family = f[len(f)-1]
			if len(f) > 1 {
				main.Given = f[:len(f)-1]
			}
		} else {
			p.pr.Warn("Patient/name", "the Patient's name has no parts")
		}
	}
	if len(main.Given) > 0 {
		rec.FirstName = main.Given[0]
		if len(main.Given) > 1 {
			rec.MiddleNames = main.Given[1:]
		}
	}
	rec.LastName, rec.Prefix, rec.Suffix = main.Family, main.Prefix, main.Suffix
	for i, n := range nodes {
		if i == primary {
			continue
		}
		o := readName(n)
		if len(o.Given) == 0 && o.Family == "" {
			o.Family = xmlsafe.Collapse(val(n, "text"))
			if o.Family == "" {
				continue
			}
		}
		if (o.Use == "usual" || o.Use == "nickname") && rec.PreferredName == "" && len(o.Given) > 0 && o.Given[0] != rec.FirstName {
			rec.PreferredName = o.Given[0]
		}
		rec.OtherNames = append(rec.OtherNames, o)
	}
}

// ---- dates ----

// ParseDate validates a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD) or the date
// part of a dateTime, keeping its precision.
func ParseDate(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, 'T'); i >= 0 {
		v = v[:i]
	}
	var layout string
	switch len(v) {
	case 4:
		layout = "2006"
	case 7:
		layout = "2006-01"
	case 10:
		layout = "2006-01-02"
	default:
		return "", false
	}
	t, err := time.Parse(layout, v)
	if err != nil || t.Year() < 1 {
		return "", false
	}
	return v, true
}

// applyAccuracy trims a date to what the AU date-accuracy-indicator (three
// letters for day, month, year: A accurate, E estimated, U unknown) says is
// known. It returns "" when the year is unknown.
func applyAccuracy(date, code string) string {
	code = strings.ToUpper(code)
	if len(code) != 3 {
		return date
	}
	switch {
	case code[2] == 'U':
		return ""
	case code[1] == 'U' && len(date) >= 4:
		return date[:4]
	case code[0] == 'U' && len(date) >= 7:
		return date[:7]
	}
	return date
}

func accuracyCode(n *xmlsafe.Node) string {
	for _, e := range n.All(NS, "extension") {
		if e.Attr("url") == extAccuracy {
			return val(e.Child(NS, "valueCoding"), "code")
		}
	}
	return ""
}

func (p *parser) birth(rec *sdk.PatientRecord, pt *xmlsafe.Node) {
	bd := pt.Child(NS, "birthDate")
	v := strings.TrimSpace(bd.Attr("value"))
	if v == "" {
		return
	}
	d, ok := ParseDate(v)
	if !ok {
		p.pr.Warn("Patient/birthDate", "birthDate value is not a valid date")
		return
	}
	if acc := accuracyCode(bd); acc != "" {
		if d2 := applyAccuracy(d, acc); d2 != d {
			p.pr.Warn("Patient/birthDate", "the date accuracy indicator says part of birthDate is unknown; only the known part was kept")
			d = d2
		}
	}
	rec.DateOfBirth = d
}

func (p *parser) gender(rec *sdk.PatientRecord, pt *xmlsafe.Node) {
	g := val(pt, "gender")
	if g == "" {
		return
	}
	switch g {
	case "male", "female", "other", "unknown":
		rec.Sex = g
	default:
		p.pr.Warn("Patient/gender", "gender value is not one of male, female, other, unknown; sex was set to unknown")
	}
}

func (p *parser) deceased(rec *sdk.PatientRecord, pt *xmlsafe.Node) {
	if strings.EqualFold(val(pt, "deceasedBoolean"), "true") {
		rec.Deceased = true
	}
	dt := pt.Child(NS, "deceasedDateTime")
	if dt == nil {
		return
	}
	rec.Deceased = true
	v := strings.TrimSpace(dt.Attr("value"))
	if v == "" {
		return
	}
	d, ok := ParseDate(v)
	if !ok {
		p.pr.Warn("Patient/deceasedDateTime", "deceasedDateTime value is not a valid date")
		return
	}
	if acc := accuracyCode(dt); acc != "" {
		d = applyAccuracy(d, acc)
	}
	rec.DeceasedDate = d
}

// ---- contact ----

func (p *parser) telecoms(rec *sdk.PatientRecord, pt *xmlsafe.Node) {
	for _, t := range pt.All(NS, "telecom") {
		v := val(t, "value")
		if v == "" {
			continue // e.g. <telecom><use value="home"/></telecom>: nothing known
		}
		guess, value := importkit.ContactValue(v)
		system := val(t, "system")
		switch system {
		case "sms":
			system = "phone"
		case "":
			system = guess
		case "phone", "email", "fax", "url", "pager", "other":
		default:
			system = guess
		}
		if system == "phone" && importkit.Digits(value) < importkit.MinPhoneDigits {
			p.pr.Warn("Patient/telecom", "a telecom value is too short to be a phone number; it is kept but not used as the phone")
		}
		use := val(t, "use")
		if end := val(t.Child(NS, "period"), "end"); end != "" && use == "" {
			use = "old" // a contact point with an end date is no longer current
		}
		rec.Telecoms = append(rec.Telecoms, sdk.Telecom{System: system, Value: value, Use: use})
	}
	importkit.PickContacts(rec)
}

func address(nodes []*xmlsafe.Node) *sdk.Address {
	var best *sdk.Address
	bestRank := 99
	for _, n := range nodes {
		a := sdk.Address{Use: val(n, "use"), City: val(n, "city"), State: val(n, "state"),
			PostalCode: val(n, "postalCode"), Country: val(n, "country")}
		var lines []string
		for _, l := range n.All(NS, "line") {
			if v := xmlsafe.Collapse(l.Attr("value")); v != "" {
				lines = append(lines, v)
			}
		}
		if len(lines) > 0 {
			a.Line1, a.Line2 = lines[0], strings.Join(lines[1:], ", ")
		}
		if len(lines) == 0 && a.City == "" && a.State == "" && a.PostalCode == "" && a.Country == "" {
			a.Line1 = xmlsafe.Collapse(val(n, "text"))
			if a.Line1 == "" {
				continue
			}
		}
		rank := 2
		switch a.Use {
		case "home":
			rank = 0
		case "":
			rank = 1
		case "old":
			rank = 9
		case "billing":
			rank = 3
		}
		if val(n.Child(NS, "period"), "end") != "" {
			rank = 8
		}
		if rank < bestRank {
			aa := a
			best, bestRank = &aa, rank
		}
	}
	return best
}

// ---- coded demographics ----

func (p *parser) marital(rec *sdk.PatientRecord, pt *xmlsafe.Node) {
	ms := pt.Child(NS, "maritalStatus")
	if ms == nil {
		return
	}
	for _, c := range ms.All(NS, "coding") {
		if m, ok := importkit.MaritalStatus(val(c, "code"), val(c, "display")); ok {
			rec.MaritalStatus = m
			return
		}
	}
	if m, ok := importkit.MaritalStatus("", val(ms, "text")); ok {
		rec.MaritalStatus = m
		return
	}
	p.pr.Warn("Patient/maritalStatus", "maritalStatus is not an HL7 marital status code; it was ignored")
}

func (p *parser) language(rec *sdk.PatientRecord, pt *xmlsafe.Node) {
	var chosen string
	for _, c := range pt.All(NS, "communication") {
		code := ""
		for _, cd := range c.Child(NS, "language").All(NS, "coding") {
			if code = val(cd, "code"); code != "" {
				break
			}
		}
		if code == "" {
			continue
		}
		pref := val(c, "preferred") == "true"
		if chosen == "" || pref {
			chosen = code
		}
		if pref {
			break
		}
	}
	if chosen == "" {
		return
	}
	tag, ok := importkit.Language(chosen)
	if !ok {
		p.pr.Warn("Patient/communication/language", "language code is not a recognised language code; it was kept as given")
	}
	rec.Language = tag
}

// raceEthnicity reads the US Core race and ethnicity extensions
// (ombCategory and detailed codings, else the text).
func (p *parser) raceEthnicity(rec *sdk.PatientRecord, pt *xmlsafe.Node) {
	for _, e := range pt.All(NS, "extension") {
		var dst *[]string
		switch e.Attr("url") {
		case extUSRace:
			dst = &rec.Race
		case extUSEthn:
			dst = &rec.Ethnicity
		default:
			continue
		}
		seen := map[string]bool{}
		var text string
		for _, sub := range e.All(NS, "extension") {
			switch sub.Attr("url") {
			case "ombCategory", "detailed":
				c := sub.Child(NS, "valueCoding")
				if code := val(c, "code"); code != "" {
					if n := importkit.RaceName(code, val(c, "display")); !seen[n] {
						seen[n] = true
						*dst = append(*dst, n)
					}
				}
			case "text":
				text = val(sub, "valueString")
			}
		}
		if len(*dst) == 0 && text != "" {
			*dst = append(*dst, text)
		}
	}
}

// ---- provider and insurance ----

func humanName(n *xmlsafe.Node) string {
	if n == nil {
		return ""
	}
	nm := readName(n)
	words := append(append([]string{}, strings.Fields(nm.Prefix)...), nm.Given...)
	if nm.Family != "" {
		words = append(words, nm.Family)
	}
	s := strings.Join(words, " ")
	if s == "" {
		return xmlsafe.Collapse(val(n, "text"))
	}
	if nm.Suffix != "" {
		s += ", " + nm.Suffix
	}
	return s
}

func (p *parser) practitioner(n *xmlsafe.Node) *sdk.Provider {
	pr := &sdk.Provider{}
	for _, nm := range n.All(NS, "name") {
		if pr.Name = humanName(nm); pr.Name != "" {
			break
		}
	}
	if pr.Name == "" {
		return nil
	}
	for _, id := range n.All(NS, "identifier") {
		if val(id, "system") == sysNPI {
			pr.NPI = val(id, "value")
		}
	}
	for _, t := range n.All(NS, "telecom") {
		if val(t, "system") == "phone" && val(t, "value") != "" {
			pr.Phone = val(t, "value")
			break
		}
	}
	return pr
}

// providerFrom resolves a Reference to a Practitioner, PractitionerRole or
// Organization; unresolved references fall back to their display text.
func (p *parser) providerFrom(ref *xmlsafe.Node) (prov *sdk.Provider, org string) {
	r := p.b.resolve(ref)
	local := ""
	if r != nil {
		local = r.Local
	}
	switch local {
	case "Practitioner":
		prov = p.practitioner(r)
	case "PractitionerRole":
		if pr := p.b.resolve(r.Child(NS, "practitioner")); pr.Is(NS, "Practitioner") {
			prov = p.practitioner(pr)
		}
		if o := p.b.resolve(r.Child(NS, "organization")); o.Is(NS, "Organization") {
			org = val(o, "name")
		}
		if org == "" {
			org = val(r.Child(NS, "organization"), "display")
		}
	case "Organization":
		org = val(r, "name")
	}
	if prov == nil && org == "" && r == nil {
		d := xmlsafe.Collapse(ref.Child(NS, "display").Attr("value"))
		if strings.Contains(val(ref, "reference"), "Organization/") || val(ref, "type") == "Organization" {
			org = d
		} else if d != "" {
			prov = &sdk.Provider{Name: d}
		}
	}
	return prov, org
}

func (p *parser) provider(pt *xmlsafe.Node) *sdk.Provider {
	var prov *sdk.Provider
	var org string
	for _, gp := range pt.All(NS, "generalPractitioner") {
		pr, o := p.providerFrom(gp)
		if org == "" {
			org = o
		}
		if prov == nil && pr != nil {
			prov = pr
			prov.Role = "general practitioner"
		}
	}
	if prov == nil {
		for _, c := range p.b.compositions {
			if !p.single && p.b.resolve(c.Child(NS, "subject")) != pt {
				continue
			}
			for _, a := range c.All(NS, "author") {
				if pr, o := p.providerFrom(a); pr != nil {
					prov = pr
					prov.Role = "author"
					if org == "" {
						org = o
					}
					break
				}
			}
			if prov != nil {
				break
			}
		}
	}
	if org == "" {
		mo := pt.Child(NS, "managingOrganization")
		if o := p.b.resolve(mo); o.Is(NS, "Organization") {
			org = val(o, "name")
		}
		if org == "" {
			org = xmlsafe.Collapse(mo.Child(NS, "display").Attr("value"))
		}
	}
	if prov == nil {
		if org == "" {
			return nil
		}
		return &sdk.Provider{Name: org, Organization: org, Role: "managing organization"}
	}
	prov.Organization = org
	return prov
}

func (p *parser) insurance(pt *xmlsafe.Node) []sdk.Insurance {
	var out []sdk.Insurance
	for _, c := range p.b.coverages {
		ben := c.Child(NS, "beneficiary")
		if p.b.resolve(ben) != pt && !(p.single && ben == nil) {
			continue
		}
		if s := val(c, "status"); s == "cancelled" || s == "entered-in-error" {
			continue
		}
		var ins sdk.Insurance
		for _, payor := range c.All(NS, "payor") {
			if o := p.b.resolve(payor); o.Is(NS, "Organization") {
				ins.Payer = val(o, "name")
			}
			if ins.Payer == "" {
				ins.Payer = xmlsafe.Collapse(payor.Child(NS, "display").Attr("value"))
			}
			if ins.Payer != "" {
				break
			}
		}
		ins.MemberID = val(c, "subscriberId")
		if ins.MemberID == "" {
			for _, id := range c.All(NS, "identifier") {
				if identType(id) == "MB" || ins.MemberID == "" {
					ins.MemberID = val(id, "value")
				}
			}
		}
		for _, cl := range c.All(NS, "class") {
			for _, cd := range cl.Child(NS, "type").All(NS, "coding") {
				if val(cd, "code") == "group" {
					ins.Group = val(cl, "value")
				}
			}
		}
		if ins.Payer == "" && ins.MemberID == "" {
			continue
		}
		if ins.Payer == "" {
			p.pr.Warn("Coverage/payor", "a Coverage has no payer name")
		}
		out = append(out, ins)
	}
	return out
}
