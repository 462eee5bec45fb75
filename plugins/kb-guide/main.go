// Command kb-guide is the first-party WASM knowledge module with workflow
// best practices, feature explanations and troubleshooting. Build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o kb-guide.wasm ./plugins/kb-guide
package main

import (
	"github.com/pfinni/pfinni/plugins/kb-guide/guidekb"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

// Name is the plugin name in plugin-manifest.yaml.
const Name = "kb-guide"

func init() { wasm.Register(sdk.Plugin{Name: Name, Knowledge: guidekb.Module()}) }

func main() {}
