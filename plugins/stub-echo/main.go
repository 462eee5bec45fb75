// Command stub-echo is a deterministic WASM intent handler for tests: it
// echoes messages that start with "echo", and exercises every host
// operation on request. Build: make plugins.
//
//	echo <text>           reply "<prefix><text>"  (prefix from config)
//	echo patients <status> host patients.search (needs patients:read)
//	echo kb <query>       host kb.search (needs kb:read)
//	echo log <text>       host log (needs log)
//	echo print <text>     writes <text> to stdout (captured by the host)
//	echo error            a deliberate invalid_input error (not a fault)
//	echo big <n>          a reply of n bytes
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

type echo struct{ prefix *string }

func (echo) Match(_ context.Context, req sdk.MatchRequest) (sdk.MatchResult, error) {
	if strings.HasPrefix(strings.ToLower(req.Message), "echo") {
		return sdk.MatchResult{Intent: "echo.say", Score: 0.9}, nil
	}
	return sdk.MatchResult{Score: 0}, nil
}

func (e echo) Handle(ctx context.Context, req sdk.IntentRequest) (sdk.IntentReply, error) {
	rest := strings.TrimSpace(strings.TrimPrefix(req.Message, "echo"))
	cmd, arg, _ := strings.Cut(rest, " ")
	host := sdk.HostFrom(ctx)
	out := sdk.IntentReply{Intent: "echo.say"}
	switch cmd {
	case "patients":
		list, err := host.SearchPatients(ctx, sdk.PatientQuery{Status: arg})
		if err != nil {
			return out, err
		}
		out.Reply = fmt.Sprintf("%d patients", list.Total)
		out.Data = map[string]any{"patients": list.Patients, "total": list.Total}
	case "kb":
		res, err := host.KBSearch(ctx, sdk.KBSearchRequest{Query: arg})
		if err != nil {
			return out, err
		}
		out.Reply = fmt.Sprintf("%d articles", len(res.Articles))
		out.Data = map[string]any{"articles": res.Articles}
	case "log":
		host.Log(ctx, sdk.LogInfo, arg)
		out.Reply = "logged"
	case "print":
		fmt.Println(arg)
		out.Reply = "printed"
	case "error":
		return out, sdk.Errorf(sdk.CodeInvalidInput, "you asked for an error")
	case "big":
		n, _ := strconv.Atoi(arg)
		out.Reply = strings.Repeat("x", n)
	default:
		out.Reply = *e.prefix + rest
	}
	out.Suggestions = []string{"echo hello"}
	return out, nil
}

func init() {
	prefix := ""
	wasm.Register(sdk.Plugin{
		Name:   "stub-echo",
		Intent: echo{prefix: &prefix},
		Init: func(_ context.Context, cfg json.RawMessage) error {
			var c struct {
				Prefix string `json:"prefix"`
				Fail   bool   `json:"fail"`
			}
			if err := json.Unmarshal(cfg, &c); err != nil {
				return err
			}
			if c.Fail {
				return sdk.Errorf(sdk.CodeInvalidInput, "config asks init to fail")
			}
			prefix = c.Prefix
			return nil
		},
		Health: func(context.Context) error { return nil },
	})
}

func main() {}
