package importer

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// Formats the importer plugins serve (sdk.ImportRequest.Format).
const (
	FormatCCDA    = "ccda"
	FormatFHIRXML = "fhir-xml"
)

const (
	nsHL7  = "urn:hl7-org:v3"
	nsFHIR = "http://hl7.org/fhir"
	// sniffLimit is how much of a document is read to find its root
	// element: the prolog (declaration, comments, processing
	// instructions) of real documents is tiny.
	sniffLimit = 64 << 10
)

// errSniff carries a plain-words reason why a document is not one the
// importers read.
type errSniff struct{ reason string }

func (e errSniff) Error() string { return e.reason }

// sniff detects a document's format from its root element, never from
// the file name: ClinicalDocument in urn:hl7-org:v3 (or without a
// namespace, which the C-CDA importer accepts with a warning) is C-CDA;
// Patient or Bundle in http://hl7.org/fhir is FHIR XML. It reads at most
// sniffLimit bytes, never expands an entity and refuses any DOCTYPE (the
// importers refuse them too; refusing here keeps hostile documents away
// from everything after this point).
func sniff(doc []byte) (string, error) {
	data := doc
	if len(data) > sniffLimit {
		data = data[:sniffLimit]
	}
	data = toUTF8Prefix(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return "", errSniff{"the file is empty"}
	}
	if looksCSV(data) {
		return FormatCSV, nil
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	// Element names are ASCII in every encoding the importers accept;
	// the importer decodes the text properly.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		tok, err := d.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return "", errSniff{"the file has no root element; it is not an XML document"}
			}
			return "", errSniff{"the file is not a well-formed XML document"}
		}
		switch t := tok.(type) {
		case xml.Directive:
			return "", errSniff{doctypeReason(t)}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return "", errSniff{"the file is not an XML document"}
			}
		case xml.StartElement:
			return formatOf(t)
		}
	}
}

func doctypeReason(d xml.Directive) string {
	s := strings.ToUpper(string(d))
	switch {
	case strings.Contains(s, "<!ENTITY"):
		return "the document's DOCTYPE declares entities; entity expansion is refused (a defence against billion-laughs and external-entity attacks)"
	case strings.Contains(s, "SYSTEM") || strings.Contains(s, "PUBLIC"):
		return "the document's DOCTYPE refers to an external definition, which is never fetched"
	default:
		return "the document has a DOCTYPE; C-CDA and FHIR documents have none, so it is refused"
	}
}

// formatOf maps the root element to a format. RawToken does not resolve
// prefixes, so the namespace is found among the root's own declarations.
func formatOf(root xml.StartElement) (string, error) {
	ns := ""
	for _, a := range root.Attr {
		if (a.Name.Space == "" && a.Name.Local == "xmlns" && root.Name.Space == "") ||
			(a.Name.Space == "xmlns" && a.Name.Local == root.Name.Space && root.Name.Space != "") {
			ns = a.Value
		}
	}
	local := root.Name.Local
	switch {
	case local == "ClinicalDocument" && (ns == nsHL7 || ns == ""):
		return FormatCCDA, nil
	case (local == "Patient" || local == "Bundle") && ns == nsFHIR:
		return FormatFHIRXML, nil
	}
	where := "no namespace"
	if ns != "" {
		where = "namespace " + ns
	}
	return "", errSniff{fmt.Sprintf("the root element is %s (%s); pfinni imports HL7 C-CDA documents (ClinicalDocument, %s) and FHIR XML (Patient or Bundle, %s)", local, where, nsHL7, nsFHIR)}
}

// toUTF8Prefix turns a UTF-16 prefix (BOM, or "<" followed by a NUL)
// into UTF-8 so the root element can be read, and drops a UTF-8 BOM.
func toUTF8Prefix(b []byte) []byte {
	var be bool
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return b[3:]
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		be, b = true, b[2:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		b = b[2:]
	case bytes.HasPrefix(b, []byte{0, '<'}):
		be = true
	case bytes.HasPrefix(b, []byte{'<', 0}):
	default:
		return b
	}
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		if be {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		} else {
			u = append(u, uint16(b[i+1])<<8|uint16(b[i]))
		}
	}
	s := string(utf16.Decode(u))
	// The declaration still says UTF-16; the decoder must not try to
	// convert again.
	return []byte(strings.Replace(s, "UTF-16", "UTF-8", 1))
}
