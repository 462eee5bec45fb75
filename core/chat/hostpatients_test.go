package chat_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/sdk"
)

// The plugins' patients:read answers from the directory as the calling
// user, with its filters, and refuses what that user may not read.
func TestHostPatients(t *testing.T) {
	e := newEnv(t, 30)
	h := chat.HostPatients{Patients: e.patients}
	all, err := h.SearchPatients(as(actor.RoleStaff), sdk.PatientQuery{Limit: 100})
	require.NoError(t, err)
	assert.Equal(t, 30, all.Total)

	active, err := h.SearchPatients(as(actor.RoleStaff), sdk.PatientQuery{Status: "ACTIVE"})
	require.NoError(t, err)
	assert.Positive(t, active.Total)
	assert.Less(t, active.Total, 30)
	for _, p := range active.Patients {
		assert.Equal(t, "active", p.Status)
	}

	future := fixedNow().Add(24 * time.Hour).Format(time.RFC3339)
	none, err := h.SearchPatients(as(actor.RoleStaff), sdk.PatientQuery{UpdatedSince: future})
	require.NoError(t, err)
	assert.Zero(t, none.Total, "nobody was updated after tomorrow")

	_, err = h.SearchPatients(as(actor.RoleStaff), sdk.PatientQuery{UpdatedSince: "yesterday"})
	var se *sdk.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sdk.CodeInvalidInput, se.Code)

	_, err = h.SearchPatients(as(actor.RoleAuditor), sdk.PatientQuery{})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sdk.CodeForbidden, se.Code)
}
