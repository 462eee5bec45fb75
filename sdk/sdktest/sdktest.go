// Package sdktest helps plugin authors unit-test a plugin natively,
// without a host: a fake sdk.Host with canned data and a Call helper that
// goes through sdk.Dispatch exactly as the WASM and process runtimes do.
package sdktest

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/pfinni/pfinni/sdk"
)

// Host is an in-memory sdk.Host. Capabilities lists what it grants (nil
// grants everything), mirroring the manifest.
type Host struct {
	Patients     []sdk.PatientSummary
	Articles     []sdk.Article
	Capabilities []string

	mu   sync.Mutex
	logs []string
}

var _ sdk.Host = (*Host)(nil)

func (h *Host) allowed(c string) error {
	if h.Capabilities == nil {
		return nil
	}
	for _, g := range h.Capabilities {
		if g == c {
			return nil
		}
	}
	return sdk.Errorf(sdk.CodeCapabilityDenied, "capability %q not granted", c)
}

// SearchPatients filters Patients by status, provider and text.
func (h *Host) SearchPatients(_ context.Context, q sdk.PatientQuery) (sdk.PatientList, error) {
	if err := h.allowed(sdk.CapPatientsRead); err != nil {
		return sdk.PatientList{}, err
	}
	out := sdk.PatientList{Patients: []sdk.PatientSummary{}}
	for _, p := range h.Patients {
		if q.Status != "" && p.Status != q.Status || q.ProviderID != "" && p.ProviderID != q.ProviderID {
			continue
		}
		if q.Text != "" && !strings.Contains(strings.ToLower(p.FirstName+" "+p.LastName+" "+p.MRN), strings.ToLower(q.Text)) {
			continue
		}
		out.Total++
		if q.Limit == 0 || len(out.Patients) < q.Limit {
			out.Patients = append(out.Patients, p)
		}
	}
	return out, nil
}

// KBSearch returns the Articles whose title or body contains the query.
func (h *Host) KBSearch(_ context.Context, req sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	if err := h.allowed(sdk.CapKBRead); err != nil {
		return sdk.KBSearchResult{}, err
	}
	out := sdk.KBSearchResult{Articles: []sdk.Article{}}
	for _, a := range h.Articles {
		if strings.Contains(strings.ToLower(a.Title+" "+a.Body), strings.ToLower(req.Query)) {
			out.Articles = append(out.Articles, a)
		}
	}
	return out, nil
}

// Log records msg; Logs returns what was recorded.
func (h *Host) Log(_ context.Context, _ sdk.LogLevel, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, msg)
}

// Logs returns the lines logged so far.
func (h *Host) Logs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.logs...)
}

// Call runs hook on p with req through sdk.Dispatch, with h as the host
// (h may be nil), and decodes the result into resp.
func Call(ctx context.Context, p sdk.Plugin, h sdk.Host, hook string, req, resp any) error {
	in, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if h != nil {
		ctx = sdk.WithHost(ctx, h)
	}
	return sdk.DecodeEnvelope(sdk.Dispatch(ctx, p, hook, in), resp)
}
