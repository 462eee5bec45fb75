package ccda

import (
	"strings"
	"time"

	"github.com/pfinni/pfinni/plugins/internal/importkit"
	"github.com/pfinni/pfinni/plugins/internal/xmlsafe"
	"github.com/pfinni/pfinni/sdk"
)

// ---- responsible provider ----

// provider returns the responsible clinician: a documentationOf/
// serviceEvent performer (the one with functionCode PCP first), else the
// first author that is a person, else the patient's providerOrganization.
func (p *parser) provider(role *xmlsafe.Node) *sdk.Provider {
	ns := p.ns
	org := role.Child(ns, "providerOrganization").Child(ns, "name").Value()
	var performers []*xmlsafe.Node
	for _, d := range p.root.All(ns, "documentationOf") {
		performers = append(performers, d.Child(ns, "serviceEvent").All(ns, "performer")...)
	}
	var pick *sdk.Provider
	for _, perf := range performers {
		fc := perf.Child(ns, "functionCode")
		isPCP := strings.EqualFold(fc.Attr("code"), "PCP")
		pr := p.person(perf.Child(ns, "assignedEntity"), "assignedPerson")
		if pr == nil {
			continue
		}
		switch {
		case isPCP:
			pr.Role = "primary care physician"
		case fc.Child(ns, "originalText").Value() != "":
			pr.Role = strings.ToLower(fc.Child(ns, "originalText").Value())
		case fc.Attr("displayName") != "":
			pr.Role = strings.ToLower(xmlsafe.Collapse(fc.Attr("displayName")))
		default:
			pr.Role = "performer"
		}
		if isPCP {
			pick = pr
			break
		}
		if pick == nil {
			pick = pr
		}
	}
	if pick == nil {
		for _, a := range p.root.All(ns, "author") {
			if pr := p.person(a.Child(ns, "assignedAuthor"), "assignedPerson"); pr != nil {
				pr.Role, pick = "author", pr
				break
			}
		}
	}
	if pick == nil {
		if org == "" {
			return nil
		}
		return &sdk.Provider{Name: org, Organization: org, Role: "provider organization"}
	}
	if pick.Organization == "" {
		pick.Organization = org
	}
	return pick
}

// person reads an assignedEntity/assignedAuthor whose person child
// (assignedPerson) has a usable name.
func (p *parser) person(ent *xmlsafe.Node, personEl string) *sdk.Provider {
	ns := p.ns
	if ent == nil {
		return nil
	}
	var name string
	for _, n := range ent.Child(ns, personEl).All(ns, "name") {
		if name = p.formatName(n); name != "" {
			break
		}
	}
	if name == "" {
		return nil
	}
	pr := &sdk.Provider{Name: name}
	for _, id := range ent.All(ns, "id") {
		if ext := strings.TrimSpace(id.Attr("extension")); id.Attr("root") == OIDNPI && len(ext) == 10 && allDigits(ext) {
			pr.NPI = ext // an NPI is 10 digits; "UNK", "PseudoMD-1" are not kept
			break
		}
	}
	for _, t := range ent.All(ns, "telecom") {
		if sys, v := importkit.ContactValue(t.Attr("value")); sys == "phone" && !nullFlavored(t) && importkit.Digits(v) >= importkit.MinPhoneDigits {
			pr.Phone = v
			break
		}
	}
	pr.Organization = ent.Child(ns, "representedOrganization").Child(ns, "name").Value()
	return pr
}

// formatName writes a clinician's name as "Prefix Given Family, Suffix".
func (p *parser) formatName(n *xmlsafe.Node) string {
	if nullFlavored(n) && len(n.Children) == 0 {
		return ""
	}
	np := p.readNameQuiet(n)
	if np.empty() {
		return np.text
	}
	given := np.given
	if len(given) == 0 {
		given = np.callMe
	}
	words := append(append(append([]string{}, np.prefix...), given...), np.family...)
	s := strings.Join(words, " ")
	if len(np.suffix) > 0 && s != "" {
		s += ", " + strings.Join(np.suffix, " ")
	}
	return s
}

// readNameQuiet reads a name that is not the patient's, so placeholder
// problems are not reported against the patient.
func (p *parser) readNameQuiet(n *xmlsafe.Node) nameParts {
	saved := p.pr
	np := p.readName(n, "")
	p.pr = saved
	return np
}

// ---- insurance ----

func hasTemplate(n *xmlsafe.Node, ns string, roots map[string]bool) bool {
	for _, t := range n.All(ns, "templateId") {
		if roots[t.Attr("root")] {
			return true
		}
	}
	return false
}

var (
	coverageRoots = map[string]bool{"2.16.840.1.113883.10.20.22.4.60": true, "2.16.840.1.113883.10.20.1.20": true}
	payerPerfRoot = map[string]bool{"2.16.840.1.113883.10.20.22.4.87": true}
	guarantorRoot = map[string]bool{"2.16.840.1.113883.10.20.22.4.88": true}
)

// insurance reads the Payers section (C-CDA 2.16.840.1.113883.10.20.22.2.18,
// CCD 1.0 2.16.840.1.113883.10.20.1.9, or LOINC 48768-6).
func (p *parser) insurance() []sdk.Insurance {
	ns := p.ns
	var out []sdk.Insurance
	seen := map[sdk.Insurance]bool{}
	body := p.root.Path(ns, "component", "structuredBody")
	var sections []*xmlsafe.Node
	body.Walk(func(n *xmlsafe.Node) bool {
		if n.Is(ns, "section") {
			if hasTemplate(n, ns, payerSectionRoots) || n.Child(ns, "code").Attr("code") == payerSectionLOINC {
				sections = append(sections, n)
				return false
			}
			return true
		}
		return n.Is(ns, "structuredBody") || n.Is(ns, "component")
	})
	for _, sec := range sections {
		if nullFlavored(sec) {
			continue
		}
		for _, entry := range sec.All(ns, "entry") {
			for _, cov := range entry.All(ns, "act") {
				var policies []*xmlsafe.Node
				for _, er := range cov.All(ns, "entryRelationship") {
					policies = append(policies, er.All(ns, "act")...)
				}
				if len(policies) == 0 && !hasTemplate(cov, ns, coverageRoots) {
					policies = []*xmlsafe.Node{cov} // a policy act placed directly in the entry
				}
				for _, pol := range policies {
					ins, ok := p.policy(pol)
					if !ok || seen[ins] {
						continue
					}
					if ins.Payer == "" {
						p.pr.Warn("Payers section/policy activity/performer", "a coverage entry has no payer name")
					}
					seen[ins] = true
					out = append(out, ins)
				}
			}
		}
	}
	return out
}

func (p *parser) policy(pol *xmlsafe.Node) (sdk.Insurance, bool) {
	ns := p.ns
	var ins sdk.Insurance
	for _, id := range pol.All(ns, "id") {
		if !nullFlavored(id) && strings.TrimSpace(id.Attr("extension")) != "" {
			ins.Group = strings.TrimSpace(id.Attr("extension"))
			break
		}
	}
	var payer *xmlsafe.Node
	for _, perf := range pol.All(ns, "performer") {
		ent := perf.Child(ns, "assignedEntity")
		if hasTemplate(perf, ns, payerPerfRoot) || strings.EqualFold(ent.Child(ns, "code").Attr("code"), "PAYOR") {
			payer = ent
			break
		}
		if payer == nil && !hasTemplate(perf, ns, guarantorRoot) && !strings.EqualFold(ent.Child(ns, "code").Attr("code"), "GUAR") {
			payer = ent
		}
	}
	if on := payer.Child(ns, "representedOrganization").Child(ns, "name"); !nullFlavored(on) {
		ins.Payer = on.Value()
	}
	for _, part := range pol.All(ns, "participant") {
		if !strings.EqualFold(part.Attr("typeCode"), "COV") {
			continue
		}
		for _, id := range part.Child(ns, "participantRole").All(ns, "id") {
			if !nullFlavored(id) && strings.TrimSpace(id.Attr("extension")) != "" {
				ins.MemberID = strings.TrimSpace(id.Attr("extension"))
				break
			}
		}
	}
	return ins, ins.Payer != "" || ins.MemberID != ""
}

// ---- HL7 timestamps ----

// ParseTS reads an HL7 v3 TS value (YYYY[MM[DD[HH[MM[SS[.fff]]]]]][+-ZZZZ])
// and returns the date part at the precision given: "YYYY", "YYYY-MM" or
// "YYYY-MM-DD". A year-only value stays a year: it never becomes 1 January.
func ParseTS(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, "+-"); i >= 0 {
		zone := v[i+1:]
		if len(zone) != 4 || !allDigits(zone) {
			return "", false
		}
		v = v[:i]
	}
	if i := strings.IndexByte(v, '.'); i >= 0 {
		// A fraction is only allowed after the seconds.
		if i != 14 || !allDigits(v[i+1:]) {
			return "", false
		}
		v = v[:i]
	}
	if !allDigits(v) {
		return "", false
	}
	switch len(v) {
	case 4, 6, 8, 10, 12, 14:
	default:
		return "", false
	}
	y, m, d := v[0:4], "01", "01"
	if len(v) >= 6 {
		m = v[4:6]
	}
	if len(v) >= 8 {
		d = v[6:8]
	}
	t, err := time.Parse("20060102", y+m+d)
	if err != nil || t.Year() < 1 {
		return "", false
	}
	if len(v) >= 10 {
		rest := v[8:]
		for len(rest) < 6 {
			rest += "00"
		}
		if _, err := time.Parse("150405", rest); err != nil {
			return "", false
		}
	}
	switch len(v) {
	case 4:
		return y, true
	case 6:
		return y + "-" + m, true
	}
	return y + "-" + m + "-" + d, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
