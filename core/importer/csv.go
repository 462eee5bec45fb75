package importer

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/pfinni/pfinni/core/patient"
)

// FormatCSV is a patient list in CSV (plugins/importer-csv).
const FormatCSV = "csv"

// looksCSV reports whether a document that is not XML is a delimited
// table: its first line holds a comma, semicolon or tab, it has no NUL
// and does not start with '#' (notes in Markdown).
// The CSV importer then maps the header (and refuses, in plain words, a
// table without name columns).
func looksCSV(data []byte) bool {
	if bytes.IndexByte(data, 0) >= 0 {
		return false
	}
	first := bytes.TrimLeft(data, " \t\r\n")
	if len(first) == 0 || first[0] == '<' || first[0] == '#' { // XML; a Markdown heading or a comment
		return false
	}
	if i := bytes.IndexAny(first, "\r\n"); i >= 0 {
		first = first[:i]
	}
	return bytes.ContainsAny(first, ",;\t")
}

// encodeMapping keeps a mapping override as JSON on the file row.
func encodeMapping(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "" // a map of strings always encodes
	}
	return string(b)
}

// decodeMapping reads a mapping kept by encodeMapping.
func decodeMapping(s string) map[string]string {
	if s == "" {
		return nil
	}
	var m map[string]string
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return m
}

// dropOwnMRN returns ids without the practice-MRN identifier (a CSV's
// chart number, patient.MergedMRNSystem) whose value is mrn: it matched
// the patient by its own MRN and is not an identifier of its own.
func dropOwnMRN(ids []patient.Identifier, mrn string) []patient.Identifier {
	return slices.DeleteFunc(slices.Clone(ids), func(id patient.Identifier) bool {
		return id.Value == mrn && patient.IdentifierKey(id) == patient.IdentifierKey(patient.Identifier{System: patient.MergedMRNSystem, Value: mrn})
	})
}

// withoutOwnMRN is in without the identifier that repeats its MRN.
func withoutOwnMRN(in patient.Input) patient.Input {
	in.Identifiers = dropOwnMRN(in.Identifiers, in.MRN)
	return in
}
