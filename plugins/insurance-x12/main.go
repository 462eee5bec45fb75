// Command insurance-x12 is pfinni's insurance eligibility adapter, a
// process plugin: it builds an X12 270 (005010X279A1) for a patient's
// coverage, POSTs it to the configured endpoint (a clearinghouse, or
// the stub insurer of `pfinni dev insurer-stub` in development and
// tests) through the host's egress proxy, and reads the 271 that comes
// back, with the delimiters its ISA declares. See docs/insurance.md.
//
// Build with `make plugins` (or `go build -o insurance-x12.bin .`).
package main

import (
	"context"
	"time"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/process"
)

func main() {
	a := &adapter{client: process.HTTPClient, now: time.Now}
	process.Serve(sdk.Plugin{
		Name:      "insurance-x12",
		Insurance: a,
		Init:      a.init,
		Health:    func(context.Context) error { return nil },
	})
}
