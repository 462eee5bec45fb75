package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient"
)

const seedUsage = `usage:
  pfinni seed --patients N [--seed S]

Adds N deterministic demo patients (and 20 providers): the same seed gives
the same people. Refused when demo patients are already present.`

// runSeed implements `pfinni seed --patients N [--seed S]`. It acts as
// the system unless ctx carries an actor; the seed is audited.
func runSeed(ctx context.Context, svc *patient.Service, args []string, out io.Writer) error {
	if actor.From(ctx).Anonymous() {
		ctx = actor.System(ctx)
	}
	fs := pflag.NewFlagSet("pfinni seed", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n := fs.Int("patients", -1, "number of demo patients to add")
	seed := fs.Int64("seed", 1, "random seed (same seed, same data)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			_, _ = fmt.Fprintln(out, seedUsage)
			return nil
		}
		return fmt.Errorf("seed: %w\n%s", err, seedUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seed: unexpected argument %q\n%s", fs.Arg(0), seedUsage)
	}
	if *n < 1 {
		return fmt.Errorf("seed: --patients must be at least 1\n%s", seedUsage)
	}
	start := time.Now()
	if err := patient.Seed(ctx, svc, *n, *seed); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "seeded %d demo patients (seed %d) in %s; %d patients in total\n",
		*n, *seed, time.Since(start).Round(time.Millisecond), svc.Count())
	return err
}
