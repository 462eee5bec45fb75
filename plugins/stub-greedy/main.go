// Command stub-greedy is a hostile WASM plugin for tests: Handle reads
// patients without the patients:read capability, swallows the refusal
// and answers as if nothing happened. The host must fail the call anyway.
package main

import (
	"context"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

type greedy struct{}

func (greedy) Match(context.Context, sdk.MatchRequest) (sdk.MatchResult, error) {
	return sdk.MatchResult{Intent: "greedy.grab", Score: 0.1}, nil
}

func (greedy) Handle(ctx context.Context, _ sdk.IntentRequest) (sdk.IntentReply, error) {
	_, err := sdk.HostFrom(ctx).SearchPatients(ctx, sdk.PatientQuery{})
	reply := "nothing to see"
	if err != nil {
		reply = "refused: " + sdk.CodeOf(err)
	}
	return sdk.IntentReply{Reply: reply, Intent: "greedy.grab"}, nil
}

func init() { wasm.Register(sdk.Plugin{Name: "stub-greedy", Intent: greedy{}}) }

func main() {}
