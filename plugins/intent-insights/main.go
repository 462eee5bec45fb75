// Command intent-insights is the first-party WASM intent plugin for
// summaries and trends. The logic lives in package insights; this file
// only registers it. Build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o intent-insights.wasm ./plugins/intent-insights
package main

import (
	"github.com/pfinni/pfinni/plugins/intent-insights/insights"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

// Name is the plugin name in plugin-manifest.yaml.
const Name = "intent-insights"

func init() { wasm.Register(sdk.Plugin{Name: Name, Intent: insights.Handler{}}) }

func main() {}
