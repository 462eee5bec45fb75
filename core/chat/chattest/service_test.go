package chattest_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat/chattest"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/plugins/intent-patients/patients"
	"github.com/pfinni/pfinni/plugins/kb-hipaa/hipaa"
	"github.com/pfinni/pfinni/sdk"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// The question a new plugin author tries first runs through the real
// chat path: the plugin returns a patient-list query, the core runs it as
// the user and fills in the count, and the reply names the plugin.
func TestServiceRunsAnIntentThroughTheChatPath(t *testing.T) {
	now := time.Date(2026, 3, 18, 15, 0, 0, 0, time.UTC)
	svc := chattest.NewService(t, now, 60, sdk.Plugin{Name: "intent-patients", Intent: patients.Handler{Now: func() time.Time { return now }}})

	page, err := svc.Patients.List(patienttest.As(t.Context(), actor.RoleStaff), patient.Filter{Missing: []string{sdk.MissingEmail}, Limit: 1})
	require.NoError(t, err)

	reply, err := svc.Ask(actor.RoleStaff, sdk.PagePatients, "how many patients have no email?")
	require.NoError(t, err)
	assert.Equal(t, "intent-patients", reply.Plugin)
	assert.Contains(t, reply.Data[sdk.DataQuery], "missing=email")
	assert.EqualValues(t, page.Total, reply.Data[sdk.DataTotal])
	assert.Contains(t, reply.Reply, strconv.Itoa(page.Total), fmt.Sprintf("the count is filled in: %q", reply.Reply))
	assert.NotContains(t, reply.Reply, sdk.PlaceholderTotal)

	// An auditor may not read patients: the same question is refused.
	reply, err = svc.Ask(actor.RoleAuditor, sdk.PageAudit, "how many patients have no email?")
	require.NoError(t, err)
	assert.NotContains(t, reply.Data, sdk.DataTotal)
}

// Knowledge modules answer what no intent claims, and an intent that
// looks a patient up goes through the host's patients:read as the user.
func TestServiceRoutesKnowledgeAndHostReads(t *testing.T) {
	now := time.Date(2026, 3, 18, 15, 0, 0, 0, time.UTC)
	svc := chattest.NewService(t, now, 20,
		sdk.Plugin{Name: "intent-patients", Intent: patients.Handler{Now: func() time.Time { return now }}},
		sdk.Plugin{Name: "kb-hipaa", Knowledge: hipaa.Module()})

	reply, err := svc.Ask(actor.RoleStaff, sdk.PageHelp, "what does HIPAA minimum necessary mean?")
	require.NoError(t, err)
	assert.Empty(t, reply.Plugin, "a knowledge answer is the assistant's own")
	assert.NotEmpty(t, reply.Data["articles"])

	page, err := svc.Patients.List(patienttest.As(t.Context(), actor.RoleStaff), patient.Filter{Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, page.Items)
	p := page.Items[0]
	reply, err = svc.Ask(actor.RoleStaff, sdk.PagePatients, "set "+p.FirstName+" "+p.LastName+" to inactive")
	require.NoError(t, err)
	assert.Equal(t, "intent-patients", reply.Plugin)
	assert.Equal(t, patients.IntentSetStatus, reply.Intent)

	h := chattest.Host{Patients: svc.Patients}
	_, err = h.KBSearch(t.Context(), sdk.KBSearchRequest{Query: "x"})
	assert.ErrorIs(t, err, sdk.ErrNoHost)
	h.Log(t.Context(), sdk.LogInfo, "discarded")
}
