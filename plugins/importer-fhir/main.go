// Command importer-fhir is the first-party WASM importer for FHIR R4 XML (Patient, or a Bundle of Patients).
// The parsing lives in package fhir so it is unit-tested and fuzzed
// natively; this file only registers it with the SDK. Build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o importer-fhir.wasm ./plugins/importer-fhir
package main

import (
	"github.com/pfinni/pfinni/plugins/importer-fhir/fhir"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

// Name is the plugin name in plugin-manifest.yaml.
const Name = "importer-fhir"

func init() {
	wasm.Register(sdk.Plugin{Name: Name, Importer: fhir.Importer{}})
}

func main() {}
