// Command importer-ccda is the first-party WASM importer for HL7 C-CDA / CDA R2 (ClinicalDocument, urn:hl7-org:v3).
// The parsing lives in package ccda so it is unit-tested and fuzzed
// natively; this file only registers it with the SDK. Build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o importer-ccda.wasm ./plugins/importer-ccda
package main

import (
	"github.com/pfinni/pfinni/plugins/importer-ccda/ccda"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

// Name is the plugin name in plugin-manifest.yaml.
const Name = "importer-ccda"

func init() {
	wasm.Register(sdk.Plugin{Name: Name, Importer: ccda.Importer{}})
}

func main() {}
