package app

import (
	"context"
	"io"

	"github.com/pfinni/pfinni/core/plugin/hostcall"
)

// patientReader is the patient directory behind the plugins' patients:read.
func (a *App) patientReader() hostcall.PatientReader { return nil }

// seedDemo seeds the deterministic demo patients into an empty embedded
// database.
func (a *App) seedDemo(ctx context.Context, out io.Writer) error { return nil }
