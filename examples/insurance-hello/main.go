// Command insurance-hello is the smallest pfinni process plugin: an
// insurance adapter that says every member of the "HELLO" payer is
// covered. Process plugins run outside the sandbox, for adapters that need
// the network; copy this directory to start one.
//
//	go build -o insurance-hello.bin .
package main

import (
	"context"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/process"
)

type adapter struct{}

var _ sdk.InsuranceAdapter = adapter{}

func (adapter) CheckEligibility(_ context.Context, req sdk.EligibilityRequest) (sdk.EligibilityResponse, error) {
	if req.Payer != "HELLO" {
		return sdk.EligibilityResponse{Status: "unknown", Messages: []string{"payer not served by this adapter"}}, nil
	}
	return sdk.EligibilityResponse{Status: "active", PlanName: "Hello Health Basic", Reference: "HELLO-" + req.MemberID}, nil
}

func main() {
	process.Serve(sdk.Plugin{Name: "insurance-hello", Insurance: adapter{}})
}
