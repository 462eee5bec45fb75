package app

import (
	"context"
	"sync/atomic"

	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/sdk"
)

// pluginPatients is the patient directory behind the plugins'
// patients:read host operation (hostcall.PatientReader), answered through
// chat.HostPatients as the calling user. The plugin host starts before the
// patient directory has loaded (plugins compile while it warms up), so
// the directory is bound once it exists; until then a call answers
// "still loading".
type pluginPatients struct {
	dir atomic.Pointer[patient.Service]
}

var _ hostcall.PatientReader = (*pluginPatients)(nil)

// bind makes s the directory plugins read from.
func (p *pluginPatients) bind(s *patient.Service) { p.dir.Store(s) }

// SearchPatients answers one patients.search.
func (p *pluginPatients) SearchPatients(ctx context.Context, q sdk.PatientQuery) (sdk.PatientList, error) {
	dir := p.dir.Load()
	if dir == nil {
		return sdk.PatientList{}, sdk.Errorf(sdk.CodeUnavailable, "the patient directory is still loading")
	}
	return chat.HostPatients{Patients: dir}.SearchPatients(ctx, q)
}
