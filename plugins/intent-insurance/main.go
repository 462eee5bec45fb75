// Command intent-insurance is the first-party WASM intent plugin for
// insurance questions in the assistant: "is <patient> covered?", "check
// insurance for <patient>". It finds the patient (patients:read) and
// proposes the eligibility check as a check_eligibility button; the host
// keeps the patient id, runs the check as the user when it is pressed
// and shows the result in the chat panel (docs/insurance.md). The logic lives in package coverage; this
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
