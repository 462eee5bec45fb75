// Command importer-csv is the first-party WASM importer for patient
// lists in CSV (spreadsheet exports) with header mapping. The parsing
// lives in package csvimport so it is unit-tested and fuzzed natively;
// this file only registers it with the SDK. Build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o importer-csv.wasm ./plugins/importer-csv
package main

import (
	"github.com/pfinni/pfinni/plugins/importer-csv/csvimport"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

// Name is the plugin name in plugin-manifest.yaml.
const Name = "importer-csv"

func init() {
	wasm.Register(sdk.Plugin{Name: Name, Importer: csvimport.Importer{}})
}

func main() {}
