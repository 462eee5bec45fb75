package importer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSniffCSV(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"comma", "Last Name,First Name\nLee,Ann\n", FormatCSV},
		{"semicolon with BOM", "\xEF\xBB\xBFName;DOB\r\n", FormatCSV},
		{"tab", "\n\nSurname\tGiven\n", FormatCSV},
		{"markdown", "# Notes, of a kind\n", ""},
		{"no delimiter", "Just text\nmore, text\n", ""},
		{"xml", `<Patient xmlns="http://hl7.org/fhir"/>`, FormatFHIRXML},
		{"binary", "a,b\x00c", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := sniff([]byte(tc.doc))
			if tc.name == "markdown" || tc.name == "no delimiter" || tc.name == "binary" {
				assert.NotEqual(t, FormatCSV, got)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, "CSV", formatName(FormatCSV))
}

func TestMappingRoundTrip(t *testing.T) {
	assert.Equal(t, "", encodeMapping(nil))
	m := map[string]string{"Surname": "last_name", "Notes": ""}
	assert.Equal(t, m, decodeMapping(encodeMapping(m)))
	assert.Nil(t, decodeMapping(""))
	assert.Nil(t, decodeMapping("{not json"))
}

func TestDraftIDAndFields(t *testing.T) {
	assert.True(t, validDraftID(newID("d")))
	assert.False(t, validDraftID("d123"))
	assert.False(t, validDraftID("j0123456789abcdef"))
	assert.False(t, validDraftID("d0123456789abcdeI"))
	assert.Equal(t, "date_of_birth", fieldOfElement(`date_of_birth (column "DOB")`))
	assert.Equal(t, "row 3", fieldOfElement("row 3"))
}
