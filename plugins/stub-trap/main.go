// Command stub-trap is a hostile WASM plugin for tests: Handle panics
// (the SDK recovers it; the host counts a fault), and Match with the
// message "exit" kills the guest outright (os.Exit, like a fatal runtime
// error).
package main

import (
	"context"
	"os"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

type trap struct{}

func (trap) Match(_ context.Context, req sdk.MatchRequest) (sdk.MatchResult, error) {
	if req.Message == "exit" {
		os.Stderr.WriteString("fatal error: stub-trap exits on purpose\n")
		os.Exit(3)
	}
	return sdk.MatchResult{Intent: "trap.now", Score: 0.1}, nil
}

func (trap) Handle(context.Context, sdk.IntentRequest) (sdk.IntentReply, error) {
	var m map[string]int
	m["boom"] = 1 // assignment to entry in nil map
	return sdk.IntentReply{}, nil
}

func init() { wasm.Register(sdk.Plugin{Name: "stub-trap", Intent: trap{}}) }

func main() {}
