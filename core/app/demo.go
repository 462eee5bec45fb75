package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/sdk"
)

// patientReader is the patient directory behind the plugins'
// patients:read. Plugins start before the patient service is built, so
// the service is looked up at call time.
func (a *App) patientReader() hostcall.PatientReader { return directoryReader{a: a} }

type directoryReader struct{ a *App }

func (d directoryReader) SearchPatients(ctx context.Context, q sdk.PatientQuery) (sdk.PatientList, error) {
	if d.a.Patients == nil {
		return sdk.PatientList{}, sdk.Errorf(sdk.CodeUnavailable, "the patient directory is still loading")
	}
	return chat.HostPatients{Patients: d.a.Patients}.SearchPatients(ctx, q)
}

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
