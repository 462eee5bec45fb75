// Package samples runs both importer parsers over every public sample
// document in ../shared/testdata (see its PROVENANCE.md) and checks each
// file's outcome and, for a hand-checked subset, the full records against
// golden files in testdata/import. It has no non-test code besides Parse.
package samples

import (
	"context"
	"strings"

	"github.com/pfinni/pfinni/plugins/importer-ccda/ccda"
	"github.com/pfinni/pfinni/plugins/importer-fhir/fhir"
	"github.com/pfinni/pfinni/sdk"
)

// Parse routes a sample to the parser its folder names: files under a
// "fhir/" folder go to the FHIR parser, all others to the C-CDA parser.
func Parse(ctx context.Context, rel string, doc []byte) (sdk.ImportResult, error) {
	req := sdk.ImportRequest{Name: rel, Document: doc}
	if strings.HasPrefix(rel, "fhir/") {
		req.Format = fhir.Format
		return fhir.Parse(ctx, req)
	}
	req.Format = ccda.Format
	return ccda.Parse(ctx, req)
}
