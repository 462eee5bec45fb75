package importer

import (
	"bytes"
	"encoding/json"
)

// FormatCSV is a patient list in CSV (plugins/importer-csv).
const FormatCSV = "csv"

// looksCSV reports whether a document that is not XML is a delimited
// table: its first line holds a comma, semicolon or tab and no NUL.
// The CSV importer then maps the header (and refuses, in plain words, a
// table without name columns).
func looksCSV(data []byte) bool {
	if bytes.IndexByte(data, 0) >= 0 {
		return false
	}
	first := bytes.TrimLeft(data, " \t\r\n")
	if len(first) == 0 || first[0] == '<' {
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
