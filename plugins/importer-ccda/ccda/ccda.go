// Package ccda reads HL7 CDA R2 documents (C-CDA R1.1/R2.1, CCD 1.0,
// HITSP C32) into patient records. It reads the header's recordTarget
// (demographics), the responsible provider (documentationOf performer,
// author, providerOrganization) and the Payers section. See
// docs/import.md for the mapping, the MRN rule and the vendor traps.
package ccda

import (
	"context"
	"fmt"
	"strings"

	"github.com/pfinni/pfinni/plugins/internal/importkit"
	"github.com/pfinni/pfinni/plugins/internal/xmlsafe"
	"github.com/pfinni/pfinni/sdk"
)

// Namespaces and OIDs the parser relies on.
const (
	NSHL7  = "urn:hl7-org:v3"
	NSSDTC = "urn:hl7-org:sdtc"

	OIDSSN = "2.16.840.1.113883.4.1" // US Social Security number
	OIDNPI = "2.16.840.1.113883.4.6" // US National Provider Identifier

	// Format is the ImportRequest.Format this importer serves.
	Format = "ccda"
)

// nationalRoots are id roots that do not identify a patient within a
// practice: national person numbers and provider ids. They are kept as
// identifiers but chosen as MRN only when nothing else exists.
var nationalRoots = map[string]string{
	OIDSSN:                      "SS",
	OIDNPI:                      "NPI",
	"2.16.840.1.113883.4.572":   "MC", // Medicare HICN
	"2.16.840.1.113883.4.927":   "MC", // Medicare beneficiary identifier
	"2.16.840.1.113883.4.3":     "DL", // US driver's licence (state arcs below)
	"2.16.840.1.113883.4.330":   "PPN",
	"2.16.840.1.113883.2.4.6.3": "NI", // Dutch BSN
	"2.16.840.1.113883.2.1.4.1": "NI", // UK NHS number
}

// payer section template ids (C-CDA, CCD 1.0) and LOINC code.
var payerSectionRoots = map[string]bool{
	"2.16.840.1.113883.10.20.22.2.18": true,
	"2.16.840.1.113883.10.20.1.9":     true,
}

const payerSectionLOINC = "48768-6"

// Importer implements sdk.Importer.
type Importer struct{}

// Import implements sdk.Importer.
func (Importer) Import(ctx context.Context, req sdk.ImportRequest) (sdk.ImportResult, error) {
	return Parse(ctx, req)
}

// Parse reads one CDA document. A document that is not a readable CDA
// ClinicalDocument with a patient returns an *importkit.Rejection (also an
// *sdk.Error with sdk.CodeInvalidInput). Otherwise it returns one record
// with its problems.
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
	if root.Local != "ClinicalDocument" || (root.Space != NSHL7 && root.Space != "") {
		return res, importkit.Reject(importkit.ReasonWrongFormat, fmt.Errorf("the root element is %s, not a CDA ClinicalDocument (urn:hl7-org:v3)", describe(root)))
	}
	if root.Space == "" {
		res.Problems = append(res.Problems, sdk.Problem{Element: "ClinicalDocument", Severity: sdk.SeverityWarning,
			Message: "ClinicalDocument has no namespace; it was read as urn:hl7-org:v3"})
	}
	p := &parser{ns: root.Space, root: root}
	rts := root.All(p.ns, "recordTarget")
	if len(rts) == 0 {
		return res, importkit.Reject(importkit.ReasonNoPatient, fmt.Errorf("the document has no recordTarget, so it names no patient"))
	}
	if len(rts) > 1 {
		res.Problems = append(res.Problems, sdk.Problem{Element: "recordTarget", Severity: sdk.SeverityWarning,
			Message: fmt.Sprintf("the document has %d recordTarget elements; only the first patient was imported", len(rts))})
	}
	role := rts[0].Child(p.ns, "patientRole")
	if role == nil {
		return res, importkit.Reject(importkit.ReasonNoPatient, fmt.Errorf("recordTarget has no patientRole, so it names no patient"))
	}
	res.Records = []sdk.PatientRecord{p.record(role)}
	return res, nil
}

func describe(n *xmlsafe.Node) string {
	switch n.Space {
	case "":
		return n.Local + " (no namespace)"
	case "http://hl7.org/fhir":
		return n.Local + " (FHIR; use the FHIR importer)"
	}
	return n.Local + " (" + n.Space + ")"
}

type parser struct {
	ns   string
	root *xmlsafe.Node
	pr   importkit.Problems
}

const (
	elRole    = "recordTarget/patientRole"
	elPatient = "recordTarget/patientRole/patient"
)

func (p *parser) record(role *xmlsafe.Node) sdk.PatientRecord {
	ns := p.ns
	rec := sdk.PatientRecord{Sex: "unknown"}
	if id := p.root.Child(ns, "id"); id != nil {
		rec.SourceRef = iiString(id)
	}
	p.identifiers(&rec, role)
	pat := role.Child(ns, "patient")
	if pat == nil {
		p.pr.Error(elPatient, "patientRole has no patient element")
	}
	p.names(&rec, pat)
	p.birth(&rec, pat)
	p.gender(&rec, pat)
	p.marital(&rec, pat)
	p.race(&rec, pat)
	p.language(&rec, pat)
	p.deceased(&rec, pat)
	rec.Address = p.address(role.All(ns, "addr"), elRole+"/addr")
	p.telecoms(&rec, role)
	rec.Provider = p.provider(role)
	rec.Insurance = p.insurance()
	rec.Problems = p.pr.List
	return rec
}

func nullFlavored(n *xmlsafe.Node) bool {
	_, ok := n.LookupAttr("", "nullFlavor")
	return ok
}

func iiString(id *xmlsafe.Node) string {
	root, ext := strings.TrimSpace(id.Attr("root")), strings.TrimSpace(id.Attr("extension"))
	if ext == "" {
		return root
	}
	return root + "^" + ext
}

// ---- identifiers and the MRN rule ----

type candidate struct {
	id   sdk.Identifier
	root string
	tier int
}

// MRN tiers, best first.
const (
	tierNamedMRN = iota // assigningAuthorityName says medical record number
	tierOrgRoot         // root is the providerOrganization's/custodian's id root
	tierLocal           // any other local id
	tierNational        // national / provider id, or an e-mail (Direct) address
	tierSSN             // Social Security number
)

func (p *parser) identifiers(rec *sdk.PatientRecord, role *xmlsafe.Node) {
	ns := p.ns
	orgRoots := map[string]bool{}
	for _, org := range []*xmlsafe.Node{
		role.Child(ns, "providerOrganization"),
		p.root.Path(ns, "custodian", "assignedCustodian", "representedCustodianOrganization"),
	} {
		for _, id := range org.All(ns, "id") {
			if r := strings.TrimSpace(id.Attr("root")); r != "" && nationalRoots[r] == "" {
				orgRoots[r] = true
			}
		}
	}
	var cands []candidate
	for _, id := range role.All(ns, "id") {
		root, ext := strings.TrimSpace(id.Attr("root")), strings.TrimSpace(id.Attr("extension"))
		if root == "" && ext == "" {
			continue // <id nullFlavor="NI"/> and friends
		}
		c := candidate{root: root}
		c.id.Assigner = xmlsafe.Collapse(id.Attr("assigningAuthorityName"))
		if ext == "" {
			// An II with a root only: the root is the whole identifier.
			c.id.Value = root
		} else {
			c.id.System, c.id.Value = root, ext
		}
		lowerAA := strings.ToLower(c.id.Assigner)
		switch {
		case root == OIDSSN:
			c.tier, c.id.Type = tierSSN, "SS"
		case nationalRoots[root] != "" || strings.HasPrefix(root, "2.16.840.1.113883.4.3."):
			c.tier, c.id.Type = tierNational, nationalRoots[root]
			if c.id.Type == "" {
				c.id.Type = "DL"
			}
		case strings.Contains(ext, "@"):
			c.tier = tierNational // a Direct address used as an id
		case strings.Contains(lowerAA, "mrn") || strings.Contains(lowerAA, "medical record"):
			c.tier, c.id.Type = tierNamedMRN, "MR"
		case ext != "" && orgRoots[root]:
			c.tier = tierOrgRoot
		default:
			c.tier = tierLocal
		}
		cands = append(cands, c)
	}
	best := -1
	for i, c := range cands {
		rec.Identifiers = append(rec.Identifiers, c.id)
		if best < 0 || c.tier < cands[best].tier {
			best = i
		}
	}
	if best < 0 {
		// Not an error: the host sends a record without identifier to
		// its review queue, where a person decides who it is.
		p.pr.Warn(elRole+"/id", "patientRole has no usable id, so there is no MRN to match the patient by")
		return
	}
	c := cands[best]
	rec.MRN = c.id.Value
	if c.id.System == "" {
		p.pr.Warn(elRole+"/id", "the chosen id has a root but no extension; the root itself was used as the MRN")
	}
	switch c.tier {
	case tierSSN:
		p.pr.Warn(elRole+"/id", "the only patient ids are under the Social Security number root (2.16.840.1.113883.4.1); the first was used as the MRN")
	case tierNational:
		p.pr.Warn(elRole+"/id", "the patient has no local record number; a national, provider or Direct-address id was used as the MRN")
	}
}

// ---- names ----

type nameParts struct {
	use       []string
	given     []string // without CL and BR parts
	callMe    []string // given parts qualified CL
	birthGive []string // given parts qualified BR
	family    []string // without BR parts
	birthFam  []string // family parts qualified BR
	prefix    []string
	suffix    []string
	text      string
}

func hasToken(list []string, tok string) bool {
	for _, t := range list {
		if t == tok {
			return true
		}
	}
	return false
}

func (p *parser) readName(n *xmlsafe.Node, el string) nameParts {
	np := nameParts{use: strings.Fields(strings.ToUpper(n.Attr("use")))}
	np.text = n.Value()
	for _, c := range n.Children {
		if c.Space != p.ns || nullFlavored(c) {
			continue
		}
		v := c.Value()
		if v == "" {
			continue
		}
		if importkit.IsPlaceholder(v) {
			p.pr.Warn(el+"/"+c.Local, "a name part holds a placeholder word instead of a name; it was ignored")
			continue
		}
		q := strings.Fields(strings.ToUpper(c.Attr("qualifier")))
		kind := c.Local
		if pt := strings.ToUpper(c.Attr("partType")); pt != "" {
			kind = map[string]string{"GIV": "given", "FAM": "family", "PFX": "prefix", "SFX": "suffix"}[pt]
		}
		switch kind {
		case "given":
			switch {
			case hasToken(q, "CL"):
				np.callMe = append(np.callMe, v)
			case hasToken(q, "BR"):
				np.birthGive = append(np.birthGive, v)
			default:
				np.given = append(np.given, v)
			}
		case "family":
			if hasToken(q, "BR") {
				np.birthFam = append(np.birthFam, v)
			} else {
				np.family = append(np.family, v)
			}
		case "prefix":
			np.prefix = append(np.prefix, v)
		case "suffix":
			np.suffix = append(np.suffix, v)
		}
	}
	return np
}

func (np nameParts) empty() bool {
	return len(np.given)+len(np.callMe)+len(np.birthGive)+len(np.family)+len(np.birthFam)+len(np.prefix)+len(np.suffix) == 0
}

// useWord maps the CDA EntityNameUse codes to the words FHIR uses.
func useWord(use []string) string {
	for _, u := range use {
		switch u {
		case "L", "OR", "C":
			return "official"
		case "P", "A":
			return "nickname"
		case "SRCH":
			return "search"
		case "ASGN":
			return "usual"
		}
	}
	if len(use) > 0 {
		return strings.ToLower(use[0])
	}
	return ""
}

func (p *parser) names(rec *sdk.PatientRecord, pat *xmlsafe.Node) {
	all := pat.All(p.ns, "name")
	var parts []nameParts
	for _, n := range all {
		if nullFlavored(n) && len(n.Children) == 0 {
			continue
		}
		np := p.readName(n, elPatient+"/name")
		if np.empty() && np.text == "" {
			continue
		}
		parts = append(parts, np)
	}
	if len(parts) == 0 {
		p.pr.Warn(elPatient+"/name", "the patient has no name")
		return
	}
	primary := 0
	for i, np := range parts {
		if hasToken(np.use, "L") {
			primary = i
			break
		}
	}
	np := parts[primary]
	if np.empty() {
		// Mixed text only: "Given Middle Family".
		p.pr.Warn(elPatient+"/name", "the name is free text without given and family parts; it was split by position")
		f := strings.Fields(np.text)
		rec.LastName = f[len(f)-1]
		if len(f) > 1 {
			rec.FirstName, rec.MiddleNames = f[0], f[1:len(f)-1]
		}
	} else {
		given := np.given
		if len(given) == 0 {
			given = np.callMe
			if len(given) == 0 {
				given = np.birthGive
			}
		}
		if len(given) > 0 {
			rec.FirstName, rec.MiddleNames = given[0], given[1:]
		}
		if len(rec.MiddleNames) == 0 {
			rec.MiddleNames = nil
		}
		fam := np.family
		if len(fam) == 0 {
			fam = np.birthFam
		}
		rec.LastName = strings.Join(fam, " ")
		rec.Prefix = strings.Join(np.prefix, " ")
		rec.Suffix = strings.Join(np.suffix, " ")
		if len(np.callMe) > 0 && np.callMe[0] != rec.FirstName {
			rec.PreferredName = np.callMe[0]
		}
		if (len(np.birthFam) > 0 && len(np.family) > 0) || (len(np.birthGive) > 0 && len(np.given) > 0) {
			b := sdk.Name{Use: "birth", Given: np.birthGive, Family: strings.Join(np.birthFam, " ")}
			if len(b.Given) == 0 {
				b.Given = given
			}
			if b.Family == "" {
				b.Family = rec.LastName
			}
			rec.OtherNames = append(rec.OtherNames, b)
		}
	}
	for i, o := range parts {
		if i == primary {
			continue
		}
		if rec.PreferredName == "" && len(o.callMe) > 0 && o.callMe[0] != rec.FirstName {
			rec.PreferredName = o.callMe[0]
		}
		n := sdk.Name{Use: useWord(o.use), Family: strings.Join(append(append([]string{}, o.family...), o.birthFam...), " "),
			Prefix: strings.Join(o.prefix, " "), Suffix: strings.Join(o.suffix, " ")}
		n.Given = append(append(append([]string{}, o.given...), o.callMe...), o.birthGive...)
		if len(n.Given) == 0 {
			n.Given = nil
		}
		if o.empty() {
			n.Family = o.text
		}
		rec.OtherNames = append(rec.OtherNames, n)
	}
}

// ---- birth, gender, marital status, race, language, death ----

func (p *parser) birth(rec *sdk.PatientRecord, pat *xmlsafe.Node) {
	bt := pat.Child(p.ns, "birthTime") // never sdtc:birthTime, however it is spelled
	if bt == nil || nullFlavored(bt) {
		return
	}
	v, ok := bt.LookupAttr("", "value")
	if !ok {
		v = bt.Child(p.ns, "low").Attr("value") // xsi:type="IVL_TS" with a low bound
	}
	if strings.TrimSpace(v) == "" {
		p.pr.Warn(elPatient+"/birthTime", "birthTime has no value")
		return
	}
	d, ok := ParseTS(v)
	if !ok {
		p.pr.Warn(elPatient+"/birthTime", "birthTime value is not a valid date")
		return
	}
	rec.DateOfBirth = d
}

func (p *parser) gender(rec *sdk.PatientRecord, pat *xmlsafe.Node) {
	g := pat.Child(p.ns, "administrativeGenderCode")
	if g == nil || nullFlavored(g) {
		return
	}
	code := g.Attr("code")
	if code == "" {
		code = g.Attr("displayName")
	}
	sex, ok := importkit.Sex(code)
	if !ok {
		p.pr.Warn(elPatient+"/administrativeGenderCode", "administrativeGenderCode code is not an HL7 administrative gender code; sex was set to unknown")
	}
	rec.Sex = sex
}

func (p *parser) marital(rec *sdk.PatientRecord, pat *xmlsafe.Node) {
	m := pat.Child(p.ns, "maritalStatusCode")
	if m == nil || nullFlavored(m) || (m.Attr("code") == "" && m.Attr("displayName") == "") {
		return
	}
	v, ok := importkit.MaritalStatus(m.Attr("code"), m.Attr("displayName"))
	if !ok {
		p.pr.Warn(elPatient+"/maritalStatusCode", "maritalStatusCode is not an HL7 marital status code; it was ignored")
		return
	}
	rec.MaritalStatus = v
}

func codes(nodes ...[]*xmlsafe.Node) []string {
	var out []string
	seen := map[string]bool{}
	for _, list := range nodes {
		for _, n := range list {
			if nullFlavored(n) || (n.Attr("code") == "" && n.Attr("displayName") == "") {
				continue
			}
			name := importkit.RaceName(n.Attr("code"), n.Attr("displayName"))
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out
}

func (p *parser) race(rec *sdk.PatientRecord, pat *xmlsafe.Node) {
	rec.Race = codes(pat.All(p.ns, "raceCode"), pat.All(NSSDTC, "raceCode"))
	rec.Ethnicity = codes(pat.All(p.ns, "ethnicGroupCode"), pat.All(NSSDTC, "ethnicGroupCode"))
}

func (p *parser) language(rec *sdk.PatientRecord, pat *xmlsafe.Node) {
	var chosen string
	for _, lc := range pat.All(p.ns, "languageCommunication") {
		code := lc.Child(p.ns, "languageCode")
		if code == nil || nullFlavored(code) || strings.TrimSpace(code.Attr("code")) == "" {
			continue
		}
		preferred := strings.EqualFold(lc.Child(p.ns, "preferenceInd").Attr("value"), "true")
		if chosen == "" || preferred {
			chosen = code.Attr("code")
		}
		if preferred {
			break
		}
	}
	if chosen == "" {
		return
	}
	tag, ok := importkit.Language(chosen)
	if !ok {
		p.pr.Warn(elPatient+"/languageCommunication/languageCode", "languageCode code is not a recognised language code; it was kept as given")
	}
	rec.Language = tag
}

func (p *parser) deceased(rec *sdk.PatientRecord, pat *xmlsafe.Node) {
	// Only sdtc:deceasedInd/deceasedTime on the patient itself: the same
	// elements on family-history subjects are about relatives.
	if ind := pat.Child(NSSDTC, "deceasedInd"); ind != nil && strings.EqualFold(ind.Attr("value"), "true") {
		rec.Deceased = true
	}
	if t := pat.Child(NSSDTC, "deceasedTime"); t != nil && !nullFlavored(t) && t.Attr("value") != "" {
		d, ok := ParseTS(t.Attr("value"))
		if !ok {
			p.pr.Warn(elPatient+"/deceasedTime", "deceasedTime value is not a valid date")
			return
		}
		rec.Deceased, rec.DeceasedDate = true, d
	}
}

// ---- address and telecom ----

func addrUse(use string) string {
	for _, u := range strings.Fields(strings.ToUpper(use)) {
		switch u {
		case "H", "HP", "HV":
			return "home"
		case "WP", "DIR", "PUB":
			return "work"
		case "TMP":
			return "temp"
		case "OLD", "BAD":
			return "old"
		case "PST":
			return "postal"
		}
	}
	return ""
}

// address picks the home address (use H/HP/HV), else the first address
// that is neither old nor bad, from addrs.
func (p *parser) address(addrs []*xmlsafe.Node, el string) *sdk.Address {
	var best *sdk.Address
	bestRank := 99
	for _, a := range addrs {
		ad := p.readAddr(a)
		if ad == nil {
			continue
		}
		rank := 2
		switch ad.Use {
		case "home":
			rank = 0
		case "", "postal":
			rank = 1
		case "old":
			rank = 9
		}
		if a.Child(p.ns, "useablePeriod").Child(p.ns, "high") != nil {
			rank = 8 // a prior address with an end date
		}
		if rank < bestRank {
			best, bestRank = ad, rank
		}
	}
	return best
}

func (p *parser) readAddr(a *xmlsafe.Node) *sdk.Address {
	ad := sdk.Address{Use: addrUse(a.Attr("use"))}
	var lines []string
	for _, c := range a.Children {
		if c.Space != p.ns || nullFlavored(c) {
			continue
		}
		v := c.Value()
		if v == "" {
			continue
		}
		if importkit.IsAddressPlaceholder(v) {
			p.pr.Warn(elRole+"/addr/"+c.Local, "an address part holds a placeholder instead of a value; it was ignored")
			continue
		}
		switch c.Local {
		case "streetAddressLine":
			lines = append(lines, v)
		case "city":
			ad.City = v
		case "state":
			ad.State = v
		case "postalCode":
			ad.PostalCode = strings.TrimRight(v, "- ") // "61550-": ZIP+4 with the +4 missing
		case "country":
			ad.Country = v
		}
	}
	if len(lines) > 0 {
		ad.Line1 = lines[0]
		ad.Line2 = strings.Join(lines[1:], ", ")
	}
	if len(lines) == 0 && ad.City == "" && ad.State == "" && ad.PostalCode == "" && ad.Country == "" {
		if t := a.Value(); t != "" {
			ad.Line1 = t // free-text address
		} else {
			return nil
		}
	}
	return &ad
}

func telecomUse(use string) string {
	for _, u := range strings.Fields(strings.ToUpper(use)) {
		switch u {
		case "H", "HP", "HV":
			return "home"
		case "WP", "DIR", "PUB":
			return "work"
		case "MC":
			return "mobile"
		case "PG":
			return "pager"
		case "EC":
			return "emergency"
		case "TMP":
			return "temp"
		case "OLD", "BAD":
			return "old"
		}
	}
	return ""
}

func (p *parser) telecoms(rec *sdk.PatientRecord, role *xmlsafe.Node) {
	for _, t := range role.All(p.ns, "telecom") {
		raw := strings.TrimSpace(t.Attr("value"))
		if raw == "" || nullFlavored(t) {
			continue
		}
		system, value := importkit.ContactValue(raw)
		if value == "" {
			continue
		}
		if (system == "phone" || system == "fax") && importkit.Digits(value) < importkit.MinPhoneDigits {
			p.pr.Warn(elRole+"/telecom", "a telecom value is too short to be a phone number; it is kept but not used as the phone")
		}
		rec.Telecoms = append(rec.Telecoms, sdk.Telecom{System: system, Value: value, Use: telecomUse(t.Attr("use"))})
	}
	importkit.PickContacts(rec)
}
