package xmlsafe

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

const hl7 = "urn:hl7-org:v3"

func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">`)
	prev := "lol"
	for i := 1; i < 10; i++ {
		name := "lol" + string(rune('0'+i))
		b.WriteString(`<!ENTITY ` + name + ` "` + strings.Repeat("&"+prev+";", 10) + `">`)
		prev = name
	}
	b.WriteString(`]><lolz>&` + prev + `;</lolz>`)
	return b.String()
}

func TestRejects(t *testing.T) {
	deep := strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300)
	many := "<r>" + strings.Repeat("<a/>", 1001) + "</r>"
	tests := []struct {
		name string
		doc  string
		lim  Limits
		want error
		msg  string
	}{
		{"empty", "  \r\n", Limits{}, ErrEmpty, ""},
		{"too large", "<a>" + strings.Repeat("x", 100) + "</a>", Limits{MaxBytes: 50}, ErrTooLarge, "limit is 50"},
		{"too deep", deep, Limits{}, ErrTooDeep, "256"},
		{"too deep custom", "<a><b><c/></b></a>", Limits{MaxDepth: 2}, ErrTooDeep, ""},
		{"too many elements", many, Limits{MaxElements: 1000}, ErrTooManyElements, ""},
		{"billion laughs", billionLaughs(), Limits{}, ErrDTD, "declares entities"},
		{"xxe", `<?xml version="1.0"?><!DOCTYPE foo [<!ELEMENT foo ANY><!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>`, Limits{}, ErrDTD, "entit"},
		{"external dtd", `<!DOCTYPE foo SYSTEM "http://example.com/x.dtd"><foo/>`, Limits{}, ErrDTD, "external"},
		{"public dtd", `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x.dtd"><html/>`, Limits{}, ErrDTD, "external"},
		{"plain doctype", `<!DOCTYPE foo><foo/>`, Limits{}, ErrDTD, "do not use"},
		{"entity decl outside doctype", `<!ENTITY a "b"><foo/>`, Limits{}, ErrDTD, "outside"},
		{"undeclared entity", `<a>&secret;</a>`, Limits{}, ErrMalformed, "line 1"},
		{"mismatched tags", "<a>\n<b></a>", Limits{}, ErrMalformed, "line 2"},
		{"truncated", `<a><b>`, Limits{}, ErrMalformed, ""},
		{"two roots", `<a/><b/>`, Limits{}, ErrMalformed, "more than one root"},
		{"text outside root", `<a/>hello`, Limits{}, ErrMalformed, "outside the root"},
		{"no root", `<?xml version="1.0"?><!-- c -->`, Limits{}, ErrMalformed, "no root"},
		{"unknown encoding", `<?xml version="1.0" encoding="EBCDIC-37"?><a/>`, Limits{}, ErrEncoding, ""},
		{"utf-16 without bom", `<?xml version="1.0" encoding="UTF-16"?><a/>`, Limits{}, ErrEncoding, "byte-order mark"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), tc.lim)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "secret", "error messages never quote the document")
		})
	}
}

func TestBillionLaughsIsFast(t *testing.T) {
	doc := []byte(billionLaughs())
	start := time.Now()
	for i := 0; i < 100; i++ {
		_, err := Parse(doc, Limits{})
		require.ErrorIs(t, err, ErrDTD)
	}
	t.Logf("100 billion-laughs rejections took %v", time.Since(start))
}

func TestEncodings(t *testing.T) {
	const body = `<ClinicalDocument xmlns="urn:hl7-org:v3"><name>Hernández Müller “Q”</name></ClinicalDocument>`
	latin1, err := charmap.Windows1252.NewEncoder().String(strings.Replace(body, "“Q”", "Q", 1))
	require.NoError(t, err)
	cp1252, err := charmap.Windows1252.NewEncoder().String(body)
	require.NoError(t, err)
	iso15, err := charmap.ISO8859_15.NewEncoder().String(strings.Replace(body, "“Q”", "Q", 1))
	require.NoError(t, err)
	u16le, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(`<?xml version="1.0" encoding="UTF-16"?>` + body)
	require.NoError(t, err)
	u16be, err := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().String(`<?xml version="1.0" encoding="UTF-16"?>` + body)
	require.NoError(t, err)
	u16leNoBOM, err := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().String(`<?xml version="1.0" encoding="UTF-16"?>` + body)
	require.NoError(t, err)
	tests := []struct {
		name, doc, want, enc string
		warn                 bool
	}{
		{"utf-8", `<?xml version="1.0" encoding="utf-8"?>` + body, "Hernández Müller “Q”", "UTF-8", false},
		{"utf-8 bom crlf", "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n" + body + "\r\n", "Hernández Müller “Q”", "UTF-8", false},
		{"bom wins over label", "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + body, "Hernández Müller “Q”", "UTF-8", false},
		{"iso-8859-1", `<?xml version="1.0" encoding="ISO-8859-1"?>` + latin1, "Hernández Müller Q", "windows-1252", false},
		{"windows-1252", `<?xml version='1.0' encoding='windows-1252'?>` + cp1252, "Hernández Müller “Q”", "windows-1252", false},
		{"iso-8859-15", `<?xml version="1.0" encoding="ISO-8859-15"?>` + iso15, "Hernández Müller Q", "ISO-8859-15", false},
		{"us-ascii", `<?xml version="1.0" encoding="US-ASCII"?><a><name>plain</name></a>`, "plain", "UTF-8", false},
		{"utf-16le bom", u16le, "Hernández Müller “Q”", "UTF-16LE", false},
		{"utf-16be bom", u16be, "Hernández Müller “Q”", "UTF-16BE", false},
		{"utf-16le no bom", u16leNoBOM, "Hernández Müller “Q”", "UTF-16LE", false},
		{"mislabelled utf-8", `<?xml version="1.0" encoding="UTF-8"?>` + cp1252, "Hernández Müller “Q”", "windows-1252", true},
		{"unlabelled 1252", cp1252, "Hernández Müller “Q”", "windows-1252", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.doc), Limits{})
			require.NoError(t, err)
			n := d.Root.Children[0]
			assert.Equal(t, tc.want, n.Value())
			assert.Equal(t, tc.enc, d.Encoding)
			assert.Equal(t, tc.warn, len(d.Warnings) > 0)
		})
	}
}

func TestNamespacesAndPIs(t *testing.T) {
	doc := "<?xml version=\"1.0\"?>\r\n<?xml-stylesheet type=\"text/xsl\" href=\"CDA.xsl\"?>\r\n" +
		`<hl7:ClinicalDocument xmlns:hl7="urn:hl7-org:v3" xmlns:sdtc="urn:hl7-org:sdtc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<!-- comment --><hl7:patient><hl7:birthTime xsi:type="TS" value="1970"/>` +
		`<birthTime xmlns="urn:hl7-org:sdtc" nullFlavor="NI"/><sdtc:raceCode code="x"/>` +
		"<hl7:name>  Eve \r\n  Everywoman &amp; &nbsp;co </hl7:name></hl7:patient></hl7:ClinicalDocument>"
	d, err := Parse([]byte(doc), Limits{})
	require.NoError(t, err)
	root := d.Root
	assert.True(t, root.Is(hl7, "ClinicalDocument"))
	pat := root.Child(hl7, "patient")
	require.NotNil(t, pat)
	bts := pat.All(hl7, "birthTime")
	require.Len(t, bts, 1, "the sdtc birthTime is not the hl7 one")
	assert.Equal(t, "1970", bts[0].Attr("value"))
	v, ok := bts[0].LookupAttr("http://www.w3.org/2001/XMLSchema-instance", "type")
	assert.True(t, ok)
	assert.Equal(t, "TS", v)
	assert.Len(t, pat.All("urn:hl7-org:sdtc", "birthTime"), 1)
	assert.Equal(t, "x", pat.Child("urn:hl7-org:sdtc", "raceCode").Attr("code"))
	assert.Equal(t, "Eve Everywoman & co", pat.Child(hl7, "name").Value())
	assert.Equal(t, "1970", root.Path(hl7, "patient", "birthTime").Attr("value"))

	// nil-safety of every accessor
	var nilNode *Node
	assert.Nil(t, nilNode.Child(hl7, "x"))
	assert.Nil(t, nilNode.All(hl7, "x"))
	assert.Nil(t, nilNode.Path(hl7, "x", "y"))
	assert.Equal(t, "", nilNode.Attr("x"))
	assert.Equal(t, "", nilNode.Value())
	assert.False(t, nilNode.Is(hl7, "x"))
	nilNode.Walk(func(*Node) bool { t.Fatal("walked nil"); return true })

	var seen []string
	root.Walk(func(n *Node) bool {
		seen = append(seen, n.Local)
		return n.Local != "patient"
	})
	assert.Equal(t, []string{"ClinicalDocument", "patient"}, seen)
}

func TestDeclaredEncoding(t *testing.T) {
	for doc, want := range map[string]string{
		`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`: "ISO-8859-1",
		`<?xml version="1.0" encoding = 'cp1252' ?><a/>`:  "cp1252",
		`<?xml version="1.0"?><a/>`:                       "",
		`<a/>`:                                            "",
		`<?xml version="1.0" encoding="x`:                 "",
		`<?xml version="1.0" encoding="x?>`:               "",
		`<?xml version="1.0" encoding x?>`:                "",
		`<?xml version="1.0" encoding=x?>`:                "",
		`<?xml version="1.0" encoding=?>`:                 "",
	} {
		assert.Equal(t, want, declaredEncoding([]byte(doc)), doc)
	}
}

func TestSafeMsg(t *testing.T) {
	assert.Equal(t, "invalid character entity", safeMsg("invalid character entity &secret;"))
	assert.Equal(t, "syntax error", safeMsg(`"x"`))
	assert.Equal(t, "unexpected EOF", safeMsg("unexpected EOF"))
}

func TestLargeValidDocumentWithinLimits(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("<r>")
	for i := 0; i < 20000; i++ {
		b.WriteString(`<item a="1">text</item>`)
	}
	b.WriteString("</r>")
	d, err := Parse(b.Bytes(), Limits{})
	require.NoError(t, err)
	assert.Len(t, d.Root.Children, 20000)
}
