// Command intent-insurance is the first-party WASM intent plugin for
// insurance questions in the assistant: "is <patient> covered?", "check
// insurance for <patient>". It finds the patient (patients:read) and
// offers the eligibility check as a button that opens the patient page's
// Eligibility block, where the check runs as the user and its result is
// shown (docs/insurance.md). The logic lives in package coverage; this
// file only registers it. Build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o intent-insurance.wasm ./plugins/intent-insurance
package main

import (
	"github.com/pfinni/pfinni/plugins/intent-insurance/coverage"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

// Name is the plugin name in plugin-manifest.yaml.
const Name = "intent-insurance"

func init() { wasm.Register(sdk.Plugin{Name: Name, Intent: coverage.Handler{}}) }

func main() {}
