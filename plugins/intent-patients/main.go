// Command intent-patients is the first-party WASM intent plugin for
// patient-data questions and status changes. The logic lives in package
// patients so it is unit-tested natively; this file only registers it.
// Build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o intent-patients.wasm ./plugins/intent-patients
package main

import (
	"github.com/pfinni/pfinni/plugins/intent-patients/patients"
	"github.com/pfinni/pfinni/plugins/internal/nlu"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

// Name is the plugin name in plugin-manifest.yaml.
const Name = "intent-patients"

func init() {
	wasm.Register(sdk.Plugin{Name: Name, Intent: patients.Handler{Vocab: &nlu.VocabCache{}}})
}

func main() {}
