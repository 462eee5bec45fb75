// Command stub-importer is a deterministic WASM importer for testers. It
// reads the "stub-csv" format: one patient per line,
//
//	mrn,first_name,last_name,date_of_birth,sex
//
// with '#' comment lines. A line with a missing MRN or a bad date is
// returned with an error Problem; a wrong field count is a document-level
// problem. A document whose first line is "# hang" never returns (a busy
// loop, as a parser stuck on hostile input would): the host must stop it
// at its time limit.
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

type importer struct{}

var sink int

func (importer) Import(_ context.Context, req sdk.ImportRequest) (sdk.ImportResult, error) {
	if req.Format != "stub-csv" {
		return sdk.ImportResult{}, sdk.Errorf(sdk.CodeInvalidInput, "format %q is not stub-csv", req.Format)
	}
	if req.MaxBytes > 0 && len(req.Document) > req.MaxBytes {
		return sdk.ImportResult{}, sdk.Errorf(sdk.CodeInvalidInput, "document of %d bytes exceeds %d", len(req.Document), req.MaxBytes)
	}
	if strings.HasPrefix(string(req.Document), "# hang") {
		for i := 0; ; i++ {
			sink += i
		}
	}
	var res sdk.ImportResult
	for i, line := range strings.Split(string(req.Document), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 5 {
			res.Problems = append(res.Problems, sdk.Problem{Element: fmt.Sprintf("line %d", i+1), Message: fmt.Sprintf("expected 5 fields, found %d", len(f)), Severity: "error"})
			continue
		}
		r := sdk.PatientRecord{MRN: f[0], FirstName: f[1], LastName: f[2], DateOfBirth: f[3], Sex: f[4]}
		if r.MRN == "" {
			r.Problems = append(r.Problems, sdk.Problem{Element: "mrn", Message: "missing", Severity: "error"})
		} else {
			r.Identifiers = []sdk.Identifier{{Value: r.MRN, Type: "MR"}}
		}
		if _, err := time.Parse("2006-01-02", r.DateOfBirth); err != nil {
			r.Problems = append(r.Problems, sdk.Problem{Element: "date_of_birth", Message: "not a YYYY-MM-DD date", Severity: "error"})
			r.DateOfBirth = ""
		}
		switch r.Sex {
		case "female", "male", "other", "unknown":
		default:
			r.Problems = append(r.Problems, sdk.Problem{Element: "sex", Message: "unknown value; recorded as unknown", Severity: "warning"})
			r.Sex = "unknown"
		}
		res.Records = append(res.Records, r)
	}
	return res, nil
}

func init() { wasm.Register(sdk.Plugin{Name: "stub-importer", Importer: importer{}}) }

func main() {}
