package chat

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/sdk"
)

// resolve runs the patient-list query a reply carries (sdk.DataQuery: the
// patient list's URL query parameters, sdk.Filter* keys) as the user in
// ctx, and fills data.patients (id and MRN of each, at most MaxPatients),
// data.total and the placeholders of the reply (sdk.PlaceholderTotal,
// sdk.PlaceholderPatients). A query with a limit ("top 5") answers
// exactly that many and counts them; data.matches then counts all.
func (s *Service) resolve(ctx context.Context, r *Reply) error {
	vals, ok, err := sdk.PatientListQueryOf(sdk.IntentReply{Data: r.Data})
	if !ok {
		return nil
	}
	if err != nil {
		return fault.New(fault.ErrInvalid, "malformed query from plugin")
	}
	top := 0
	if n, err := strconv.Atoi(vals.Get(sdk.FilterLimit)); err == nil && n > 0 {
		top = n
	}
	vals.Del(sdk.FilterLimit)
	vals.Del("cursor")
	f, err := patient.ParseFilter(vals, s.d.Location)
	if err != nil {
		return err
	}
	f.Limit = s.o.MaxPatients
	if top > 0 {
		f.Limit = min(top, patient.MaxLimit)
	}
	page, err := s.d.Patients.List(ctx, f)
	if err != nil {
		return err
	}
	refs := make([]map[string]string, len(page.Items))
	for i, p := range page.Items {
		refs[i] = map[string]string{"ref": "patient:" + p.ID, "id": p.ID, "mrn": p.MRN}
	}
	total := page.Total
	if top > 0 {
		total = len(page.Items)
		r.Data[sdk.DataMatches] = page.Total
	}
	r.Data[sdk.DataPatients] = refs
	r.Data[sdk.DataTotal] = total
	r.Data[sdk.DataHasMore] = page.Total > len(page.Items)
	r.Reply = sdk.FillCount(r.Reply, total)
	return nil
}

func isForbidden(err error) bool {
	var e *sdk.Error
	return errors.Is(err, fault.ErrForbidden) || errors.Is(err, fault.ErrUnauthorized) || errors.As(err, &e) && e.Code == sdk.CodeForbidden
}

func isInvalid(err error) bool { return errors.Is(err, fault.ErrInvalid) }

// publicMessage is the part of an error safe to show: the service's own
// message after the last "bad filter"/"bad query parameter" marker.
func publicMessage(err error) string {
	m := err.Error()
	for _, marker := range []string{"bad filter ", "bad query parameter "} {
		if i := strings.LastIndex(m, marker); i >= 0 {
			return m[i:]
		}
	}
	return "a filter value is out of range"
}
