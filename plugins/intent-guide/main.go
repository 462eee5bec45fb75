// Command intent-guide is the first-party WASM intent plugin for
// navigation, workflow guidance, form help, error explanation, the
// welcome tour, suggestions and polite refusals. The logic lives in
// package guide; this file only registers it. Build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o intent-guide.wasm ./plugins/intent-guide
package main

import (
	"github.com/pfinni/pfinni/plugins/intent-guide/guide"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

// Name is the plugin name in plugin-manifest.yaml.
const Name = "intent-guide"

func init() { wasm.Register(sdk.Plugin{Name: Name, Intent: guide.Handler{}}) }

func main() {}
