package app

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/sdk"
)

// Until the patient directory has loaded, a plugin's patients:read
// answers "still loading" (unavailable), not an empty list.
func TestPluginPatientsBeforeTheDirectoryLoads(t *testing.T) {
	var p pluginPatients
	list, err := p.SearchPatients(context.Background(), sdk.PatientQuery{Status: "active"})
	assert.Equal(t, sdk.CodeUnavailable, sdk.CodeOf(err))
	assert.ErrorContains(t, err, "still loading")
	assert.Empty(t, list.Patients)
}
