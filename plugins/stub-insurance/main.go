// Command stub-insurance is a deterministic process-plugin insurance
// adapter for testers (no network). The answer depends on the member id:
//
//	A...    active, plan "Stub Gold PPO", copay 20
//	I...    inactive
//	CRASH   writes a Go-style "fatal error" line to stderr and exits
//	        (tests restart with backoff and the crash hint)
//	HANG    never answers (tests the call time limit)
//	PRINT   writes the request's names to stdout and stderr (tests that
//	        plugin output is logged only with the log capability), then
//	        answers as "other"
//	other   unknown, with a message
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/process"
)

type insurer struct{}

func (insurer) CheckEligibility(ctx context.Context, req sdk.EligibilityRequest) (sdk.EligibilityResponse, error) {
	if req.MemberID == "" || req.Payer == "" {
		return sdk.EligibilityResponse{}, sdk.Errorf(sdk.CodeInvalidInput, "payer and member_id are required")
	}
	res := sdk.EligibilityResponse{CheckedAt: "2026-01-01T00:00:00Z", Reference: "STUB-" + req.MemberID}
	switch {
	case req.MemberID == "CRASH":
		fmt.Fprintln(os.Stderr, "fatal error: stub-insurance exits on purpose")
		os.Exit(7)
	case req.MemberID == "PRINT":
		fmt.Println("stdout: member of", req.FirstName, req.LastName)
		fmt.Fprintln(os.Stderr, "stderr: member of", req.FirstName, req.LastName)
		res.Status = "unknown"
	case req.MemberID == "HANG":
		<-ctx.Done()
		return res, ctx.Err()
	case strings.HasPrefix(req.MemberID, "A"):
		res.Status, res.PlanName = "active", "Stub Gold PPO"
		res.Coverage = []sdk.Benefit{{ServiceType: "30", InNetwork: true, Copay: 20, Deductible: 1000, Remaining: 250}}
	case strings.HasPrefix(req.MemberID, "I"):
		res.Status, res.PlanName = "inactive", "Stub Gold PPO"
		res.Messages = []string{"coverage terminated"}
	default:
		res.Status = "unknown"
		res.Messages = []string{"subscriber not found"}
	}
	return res, nil
}

func main() {
	process.Serve(sdk.Plugin{
		Name:      "stub-insurance",
		Insurance: insurer{},
		Health:    func(context.Context) error { return nil },
	})
}
