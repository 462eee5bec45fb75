package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/sdk"
)

// patientReader is the patient directory behind the plugins' patients:read.
func (a *App) patientReader() hostcall.PatientReader { return directoryReader{a: a} }

// directoryReader answers plugins' patient searches from the in-memory
// directory, returning minimum-necessary fields only. It looks the service
// up at call time, because plugins start before the service is built.
type directoryReader struct{ a *App }

func (d directoryReader) SearchPatients(ctx context.Context, q sdk.PatientQuery) (sdk.PatientList, error) {
	svc := d.a.Patients
	if svc == nil {
		return sdk.PatientList{}, fmt.Errorf("patient directory not ready")
	}
	f := patient.Filter{Q: q.Text, ProviderID: q.ProviderID, BirthdayWithinDays: q.BirthdayWithinDays, Limit: q.Limit}
	if q.Status != "" {
		f.Statuses = []patient.Status{patient.Status(strings.ToLower(q.Status))}
	}
	if q.UpdatedSince != "" {
		t, err := time.Parse(time.RFC3339, q.UpdatedSince)
		if err != nil {
			return sdk.PatientList{}, fmt.Errorf("updated_since: want RFC 3339")
		}
		f.UpdatedFrom = t
	}
	page, err := svc.List(ctx, f)
	if err != nil {
		return sdk.PatientList{}, err
	}
	out := sdk.PatientList{Total: page.Total, Patients: make([]sdk.PatientSummary, 0, len(page.Items))}
	for _, p := range page.Items {
		out.Patients = append(out.Patients, sdk.PatientSummary{
			ID: p.ID, MRN: p.MRN, FirstName: p.FirstName, LastName: p.LastName,
			Status: string(p.Status), ProviderID: p.ProviderID, UpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339),
		})
	}
	return out, nil
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
