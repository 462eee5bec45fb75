package fhir

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/pfinni/pfinni/plugins/internal/importkit"
	"github.com/pfinni/pfinni/sdk"
)

var dateRE = regexp.MustCompile(`^(\d{4}(-\d{2}(-\d{2})?)?)?$`)

// FuzzParse runs the seed corpus (every fhir sample in ../shared/testdata
// plus hostile snippets) in normal test runs; run longer with
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 5m ./plugins/importer-fhir/fhir
//
// Parse must never panic or hang, and what it returns must be coherent.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../../../shared/testdata/fhir/*/*.xml")
	more, _ := filepath.Glob("../../../../shared/testdata/fhir/*/*/*.xml")
	for _, p := range append(files, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Patient><identifier><value value="1"/></identifier><birthDate value="1957"/><generalPractitioner><reference value="Practitioner/x"/></generalPractitioner></Patient></resource></entry></Bundle>`))
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`))
	f.Add([]byte("\xFF\xFE<\x00a\x00/\x00>\x00"))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><a>\xE9</a>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		res, err := Parse(context.Background(), sdk.ImportRequest{Document: doc, MaxElements: 20000})
		if err != nil {
			if importkit.ReasonOf(err) == importkit.ReasonUnclassified || sdk.CodeOf(err) != sdk.CodeInvalidInput {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if len(res.Records) == 0 {
			t.Fatal("no error and no records")
		}
		for _, r := range res.Records {
			switch r.Sex {
			case "female", "male", "other", "unknown":
			default:
				t.Fatalf("sex %q", r.Sex)
			}
			if !dateRE.MatchString(r.DateOfBirth) || !dateRE.MatchString(r.DeceasedDate) {
				t.Fatalf("bad date %q / %q", r.DateOfBirth, r.DeceasedDate)
			}
			for _, p := range r.Problems {
				if p.Severity != sdk.SeverityError && p.Severity != sdk.SeverityWarning {
					t.Fatalf("severity %q", p.Severity)
				}
			}
		}
	})
}
