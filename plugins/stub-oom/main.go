// Command stub-oom is a hostile WASM plugin for tests: Handle allocates
// until the guest runs past its memory limit.
package main

import (
	"context"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

type oom struct{}

var hoard [][]byte

func (oom) Match(context.Context, sdk.MatchRequest) (sdk.MatchResult, error) {
	return sdk.MatchResult{Intent: "oom.grow", Score: 0.1}, nil
}

func (oom) Handle(context.Context, sdk.IntentRequest) (sdk.IntentReply, error) {
	for {
		b := make([]byte, 1<<20)
		b[len(b)-1] = 1
		hoard = append(hoard, b)
	}
}

func init() { wasm.Register(sdk.Plugin{Name: "stub-oom", Intent: oom{}}) }

func main() {}
