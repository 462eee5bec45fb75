// Command stub-slow is a hostile WASM plugin for tests: Match answers at
// once, Handle never returns (a busy loop the host must stop at its
// per-call time limit), except for the message "spin N", which loops N
// times and then answers "spun" (a slow call that does end).
package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

type slow struct{}

var sink int

func (slow) Match(context.Context, sdk.MatchRequest) (sdk.MatchResult, error) {
	return sdk.MatchResult{Intent: "slow.wait", Score: 0.1}, nil
}

func (slow) Handle(_ context.Context, req sdk.IntentRequest) (sdk.IntentReply, error) {
	if n, ok := strings.CutPrefix(req.Message, "spin "); ok {
		count, _ := strconv.Atoi(n)
		for i := 0; i < count; i++ {
			sink += i
		}
		return sdk.IntentReply{Intent: "slow.wait", Reply: "spun"}, nil
	}
	for i := 0; ; i++ {
		sink += i
	}
}

func init() { wasm.Register(sdk.Plugin{Name: "stub-slow", Intent: slow{}}) }

func main() {}
