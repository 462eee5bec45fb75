package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pfinni/pfinni/core/patient"
)

// seedDemo seeds the deterministic demo patients into an empty embedded
// database.
func (a *App) seedDemo(ctx context.Context, out io.Writer) error {
	n := a.Config.DemoPatients
	if !a.Config.Embedded() || n == 0 || a.Patients.Count() > 0 {
		return nil
	}
	start := time.Now()
	if err := patient.Seed(ctx, a.Patients, n, 1); err != nil {
		return fmt.Errorf("seed demo patients: %w", err)
	}
	fmt.Fprintf(out, "seeded %d demo patients in %.1fs\n", n, time.Since(start).Seconds())
	return nil
}
