package chat

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/sdk"
)

// HostPatients answers the plugin host's patients:read operation
// (core/plugin/hostcall.PatientReader) from the patient service, as the
// user the plugin runs for: the service authorizes and audits the read.
// The host trims the result to minimum-necessary fields.
type HostPatients struct {
	Patients interface {
		List(ctx context.Context, f patient.Filter) (patient.Page, error)
	}
}

// SearchPatients lists the patients matching q.
func (h HostPatients) SearchPatients(ctx context.Context, q sdk.PatientQuery) (sdk.PatientList, error) {
	f := patient.Filter{Q: q.Text, ProviderID: q.ProviderID, BirthdayWithinDays: q.BirthdayWithinDays, Limit: q.Limit}
	if q.Status != "" {
		f.Statuses = []patient.Status{patient.Status(strings.ToLower(q.Status))}
	}
	if q.UpdatedSince != "" {
		t, err := time.Parse(time.RFC3339, q.UpdatedSince)
		if err != nil {
			return sdk.PatientList{}, sdk.Errorf(sdk.CodeInvalidInput, "updated_since: want an RFC 3339 time")
		}
		f.UpdatedFrom = t
	}
	if f.Limit <= 0 || f.Limit > patient.MaxLimit {
		f.Limit = patient.MaxLimit
	}
	page, err := h.Patients.List(ctx, f)
	if err != nil {
		if errors.Is(err, fault.ErrForbidden) || errors.Is(err, fault.ErrUnauthorized) {
			return sdk.PatientList{}, sdk.Errorf(sdk.CodeForbidden, "the calling user may not read patients")
		}
		if errors.Is(err, fault.ErrInvalid) {
			return sdk.PatientList{}, sdk.Errorf(sdk.CodeInvalidInput, "%v", err)
		}
		return sdk.PatientList{}, err
	}
	out := sdk.PatientList{Total: page.Total, Patients: make([]sdk.PatientSummary, 0, len(page.Items))}
	for _, p := range page.Items {
		out.Patients = append(out.Patients, sdk.PatientSummary{
			ID: p.ID, MRN: p.MRN, FirstName: p.FirstName, LastName: p.LastName, Status: string(p.Status),
			ProviderID: p.ProviderID, UpdatedAt: p.UpdatedAt.Format("2006-01-02T15:04:05Z07:00"),
		})
	}
	return out, nil
}
