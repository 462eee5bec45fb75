// Package xmlsafe reads untrusted XML documents into a small in-memory tree
// with hard limits, for the importer plugins.
//
// It is built on encoding/xml, which never fetches external resources and
// never expands user-defined entities. On top of that xmlsafe:
//
//   - refuses documents larger than Limits.MaxBytes before reading them;
//   - refuses any document type declaration (DOCTYPE). A DOCTYPE that
//     declares entities (billion laughs) or names an external DTD (XXE) is
//     refused with a message saying so, as soon as the DOCTYPE is read;
//   - bounds element nesting (Limits.MaxDepth) and the number of elements
//     (Limits.MaxElements), so a hostile file cannot exhaust memory;
//   - handles byte-order marks (UTF-8, UTF-16 LE/BE) and the declared
//     encodings ISO-8859-1, Windows-1252, ISO-8859-15 and US-ASCII;
//   - resolves element and attribute names to namespace URIs, so prefixes
//     (hl7:ClinicalDocument, fhir:Patient) and re-declared default
//     namespaces are handled by what they mean, not how they are spelled.
//
// The predefined XML entities and the fixed HTML entity table (&nbsp; and
// friends, common in narrative text) are recognised; nothing else is.
// Error messages never quote document content.
package xmlsafe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"encoding/xml"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Defaults used when a Limits field is zero or negative.
const (
	DefaultMaxBytes    = 10 << 20 // 10 MiB
	DefaultMaxDepth    = 256
	DefaultMaxElements = 250_000
)

// Limits bound what Parse accepts. Zero fields take the defaults.
type Limits struct {
	MaxBytes    int
	MaxDepth    int
	MaxElements int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	return l
}

// Errors returned by Parse. Each returned error wraps exactly one of them,
// so callers can classify a rejection with errors.Is.
var (
	ErrEmpty           = errors.New("document is empty")
	ErrTooLarge        = errors.New("document is larger than the size limit")
	ErrTooDeep         = errors.New("elements are nested deeper than the limit")
	ErrTooManyElements = errors.New("document has more elements than the limit")
	ErrDTD             = errors.New("document type declarations (DOCTYPE) are not allowed")
	ErrEncoding        = errors.New("document encoding is not supported")
	ErrMalformed       = errors.New("document is not well-formed XML")
)

// Attr is one attribute, its name resolved to a namespace URI.
type Attr struct {
	Space string
	Local string
	Value string
}

// Node is one element. Text holds the element's own character data
// (children's text is not included), exactly as written.
type Node struct {
	Space    string
	Local    string
	Attrs    []Attr
	Children []*Node
	Text     string
}

// Document is a parsed document.
type Document struct {
	Root *Node
	// Encoding is the encoding the bytes were read as ("UTF-8",
	// "UTF-16LE", "windows-1252", ...).
	Encoding string
	// Warnings are recoverable oddities (a byte-order mark, a mislabelled
	// encoding), in plain words.
	Warnings []string
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// Parse reads doc under the given limits.
func Parse(doc []byte, lim Limits) (*Document, error) {
	lim = lim.withDefaults()
	if len(doc) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: the document has %d bytes and the limit is %d", ErrTooLarge, len(doc), lim.MaxBytes)
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, ErrEmpty
	}
	out := &Document{Encoding: "UTF-8"}
	// transcoded is set when the bytes were already converted to UTF-8
	// here, so that the declaration's encoding label must be ignored.
	transcoded := false
	switch {
	case bytes.HasPrefix(doc, bomUTF8):
		// The byte-order mark wins over a declared encoding (XML 1.0 F.1).
		doc, transcoded = doc[len(bomUTF8):], true
	case bytes.HasPrefix(doc, bomUTF16LE), bytes.HasPrefix(doc, []byte{'<', 0, '?', 0}):
		u, err := decodeUTF16(doc, unicode.LittleEndian)
		if err != nil {
			return nil, err
		}
		doc, transcoded, out.Encoding = u, true, "UTF-16LE"
	case bytes.HasPrefix(doc, bomUTF16BE), bytes.HasPrefix(doc, []byte{0, '<', 0, '?'}):
		u, err := decodeUTF16(doc, unicode.BigEndian)
		if err != nil {
			return nil, err
		}
		doc, transcoded, out.Encoding = u, true, "UTF-16BE"
	}
	if !transcoded {
		label := declaredEncoding(doc)
		if (label == "" || isUTF8Label(label)) && !utf8.Valid(doc) {
			// A document that says (or implies) UTF-8 but is not: the
			// usual cause is a Windows-1252 export. Read it as such.
			u, err := decode(doc, charmap.Windows1252.NewDecoder())
			if err != nil {
				return nil, err
			}
			doc, transcoded, out.Encoding = u, true, "windows-1252"
			out.Warnings = append(out.Warnings, "document is not valid UTF-8; it was read as Windows-1252")
		}
	}

	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if transcoded {
			return in, nil
		}
		switch normLabel(label) {
		case "iso88591", "latin1", "l1", "isoir100", "cp819", "windows1252", "cp1252", "xcp1252":
			// ISO-8859-1 is read as its superset Windows-1252, as browsers
			// do: exports labelled Latin-1 often carry 1252 quotes.
			out.Encoding = "windows-1252"
			return charmap.Windows1252.NewDecoder().Reader(in), nil
		case "iso885915", "latin9":
			out.Encoding = "ISO-8859-15"
			return charmap.ISO8859_15.NewDecoder().Reader(in), nil
		case "usascii", "ascii", "utf8":
			return in, nil
		case "utf16", "utf16le", "utf16be":
			return nil, fmt.Errorf("%w: UTF-16 is declared but the document has no byte-order mark", ErrEncoding)
		}
		return nil, fmt.Errorf("%w: the declared encoding is not one of UTF-8, UTF-16, ISO-8859-1, Windows-1252, ISO-8859-15, US-ASCII", ErrEncoding)
	}

	var (
		stack    []*Node
		elements int
		text     [][]byte
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, ErrEncoding) {
				return nil, err
			}
			return nil, malformed(d, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > lim.MaxElements {
				return nil, fmt.Errorf("%w (%d)", ErrTooManyElements, lim.MaxElements)
			}
			if len(stack) >= lim.MaxDepth {
				return nil, fmt.Errorf("%w (%d)", ErrTooDeep, lim.MaxDepth)
			}
			n := &Node{Space: t.Name.Space, Local: t.Name.Local}
			if len(t.Attr) > 0 {
				n.Attrs = make([]Attr, 0, len(t.Attr))
				for _, a := range t.Attr {
					if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
						continue // namespace declarations are already resolved
					}
					n.Attrs = append(n.Attrs, Attr{Space: a.Name.Space, Local: a.Name.Local, Value: a.Value})
				}
			}
			if len(stack) == 0 {
				if out.Root != nil {
					return nil, fmt.Errorf("%w: more than one root element", ErrMalformed)
				}
				out.Root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			// encoding/xml (strict) guarantees the end matches the start.
			top := len(stack) - 1
			stack[top].Text = string(text[top])
			stack = stack[:top]
			text = text[:top]
		case xml.CharData:
			if len(stack) > 0 {
				top := len(stack) - 1
				text[top] = append(text[top], t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", ErrMalformed)
			}
		case xml.Directive:
			return nil, dtdError(t)
		case xml.ProcInst, xml.Comment:
			// Processing instructions (xml-stylesheet) and comments are
			// ignored. The xml declaration itself arrives as a ProcInst.
		}
	}
	if out.Root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrMalformed)
	}
	return out, nil
}

func malformed(d *xml.Decoder, err error) error {
	line, _ := d.InputPos()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w (line %d): %s", ErrMalformed, se.Line, safeMsg(se.Msg))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w (line %d): the document ends in the middle of an element", ErrMalformed, line)
	}
	return fmt.Errorf("%w (line %d): %s", ErrMalformed, line, safeMsg(err.Error()))
}

// safeMsg keeps encoding/xml's explanation but drops anything it quotes
// from the document (names of unknown entities, characters), which could
// carry patient data.
func safeMsg(m string) string {
	for _, q := range []string{"\"", "'", "<", "&"} {
		if i := strings.Index(m, q); i >= 0 {
			m = strings.TrimRight(m[:i], " :")
		}
	}
	if m == "" {
		return "syntax error"
	}
	return m
}

func dtdError(dir xml.Directive) error {
	s := string(dir)
	upper := strings.ToUpper(s)
	if !strings.HasPrefix(strings.TrimSpace(upper), "DOCTYPE") {
		return fmt.Errorf("%w: the document contains a markup declaration outside a DOCTYPE", ErrDTD)
	}
	switch {
	case strings.Contains(upper, "<!ENTITY"):
		return fmt.Errorf("%w: the DOCTYPE declares entities, and entity expansion is refused", ErrDTD)
	case strings.Contains(upper, "SYSTEM") || strings.Contains(upper, "PUBLIC"):
		return fmt.Errorf("%w: the DOCTYPE refers to an external definition, which is never fetched", ErrDTD)
	}
	return fmt.Errorf("%w: healthcare documents do not use them", ErrDTD)
}

// declaredEncoding returns the encoding label of the XML declaration at the
// start of doc, or "".
func declaredEncoding(doc []byte) string {
	if !bytes.HasPrefix(doc, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(doc, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := string(doc[:end])
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	j := strings.IndexByte(rest[1:], q)
	if j < 0 {
		return ""
	}
	return rest[1 : 1+j]
}

func normLabel(l string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(l) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isUTF8Label(l string) bool { return normLabel(l) == "utf8" }

func decodeUTF16(doc []byte, e unicode.Endianness) ([]byte, error) {
	return decode(doc, unicode.UTF16(e, unicode.UseBOM).NewDecoder())
}

func decode(doc []byte, t transform.Transformer) ([]byte, error) {
	out, _, err := transform.Bytes(t, doc)
	if err != nil {
		return nil, fmt.Errorf("%w: the bytes do not match the encoding", ErrEncoding)
	}
	return out, nil
}
