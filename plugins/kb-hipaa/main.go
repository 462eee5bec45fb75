// Command kb-hipaa is the first-party WASM knowledge module with HIPAA
// reminders and guidance (minimum necessary, PHI, audit, access control,
// breach basics, communications), each article citing 45 CFR. Build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o kb-hipaa.wasm ./plugins/kb-hipaa
package main

import (
	"github.com/pfinni/pfinni/plugins/kb-hipaa/hipaa"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

// Name is the plugin name in plugin-manifest.yaml.
const Name = "kb-hipaa"

func init() { wasm.Register(sdk.Plugin{Name: Name, Knowledge: hipaa.Module()}) }

func main() {}
