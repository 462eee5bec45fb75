// Command intent-hello is the smallest useful pfinni intent handler: it
// answers greetings. Copy this directory to start a WASM plugin.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o intent-hello.wasm .
package main

import (
	"context"
	"strings"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

// hello implements sdk.IntentHandler.
type hello struct{}

var _ sdk.IntentHandler = hello{}

// Match claims greetings. Scores lie in [0,1]; the intent must be one the
// manifest declares under provides.intents.
func (hello) Match(_ context.Context, req sdk.MatchRequest) (sdk.MatchResult, error) {
	words := strings.Fields(strings.ToLower(req.Message))
	if len(words) > 0 && (words[0] == "hello" || words[0] == "hi") {
		return sdk.MatchResult{Intent: "greeting.hello", Score: 0.95}, nil
	}
	return sdk.MatchResult{}, nil
}

// Handle answers the greeting, tailored to the page the user is on.
func (hello) Handle(ctx context.Context, req sdk.IntentRequest) (sdk.IntentReply, error) {
	sdk.HostFrom(ctx).Log(ctx, sdk.LogInfo, "greeting on "+req.Context.Page)
	reply := sdk.IntentReply{
		Reply:       "Hello! I can find patients, explain statuses and guide you through imports.",
		Intent:      "greeting.hello",
		Suggestions: []string{"show me all active patients", "how do I add a new patient?"},
	}
	if req.Context.Page == "/patients" {
		reply.Actions = []sdk.Action{{Type: "navigate", Label: "Add patient", Target: "/patients/new"}}
	}
	return reply, nil
}

func init() { wasm.Register(sdk.Plugin{Name: "intent-hello", Intent: hello{}}) }

func main() {}
