// Command stub-slow is a hostile WASM plugin for tests: Match answers at
// once, Handle never returns (a busy loop the host must stop at its
// per-call time limit).
package main

import (
	"context"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

type slow struct{}

var sink int

func (slow) Match(context.Context, sdk.MatchRequest) (sdk.MatchResult, error) {
	return sdk.MatchResult{Intent: "slow.wait", Score: 0.1}, nil
}

func (slow) Handle(context.Context, sdk.IntentRequest) (sdk.IntentReply, error) {
	for i := 0; ; i++ {
		sink += i
	}
}

func init() { wasm.Register(sdk.Plugin{Name: "stub-slow", Intent: slow{}}) }

func main() {}
