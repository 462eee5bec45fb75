package app

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/webhooks"
)

// The hooks do nothing before the alert service exists; once wired, a
// plugin breaker trip reaches every admin, counted for the digest and the
// assistant, and the rule settings come from the configuration.
func TestAlertHooksReachTheAlertService(t *testing.T) {
	var early alertHooks
	early.PatientChanged(context.Background(), patient.Committed{Action: patient.CommittedStatus})
	early.ImportFinished(context.Background(), "imp_1", importer.Counts{Created: 1})
	early.pluginOut("stub-echo")
	n, err := early.UnreadFor(context.Background(), "u_1")
	require.NoError(t, err)
	assert.Zero(t, n)
	by, err := early.UnreadCounts(context.Background())
	require.NoError(t, err)
	assert.Empty(t, by)

	ctx := context.Background()
	a, err := Open(ctx, testConfig(t, "PFINNI_ALERT_ONBOARDING_DAYS=30", "PFINNI_WEBHOOK_ALLOW_PRIVATE=true"), Options{Out: &bytes.Buffer{}, NoHTTP: true})
	require.NoError(t, err)
	defer a.Close(ctx)
	require.NotNil(t, a.Alerts)
	assert.Equal(t, 30, a.Alerts.Options().OnboardingDays)
	admin, err := a.Auth.CreateUser(actor.System(ctx), auth.NewUser{Email: "boss@example.org", Name: "Boss", Role: actor.RoleAdmin, Password: "correct horse battery"})
	require.NoError(t, err)

	_, _, err = a.Webhooks.Create(actor.System(ctx), webhooks.EndpointInput{URL: "http://127.0.0.1:9/in", Events: []string{"alert.raised"}}, "")
	require.NoError(t, err)

	a.alerting().pluginOut("stub-echo")
	events, err := store.Query[[]string](ctx, a.DB, "SELECT VALUE payload FROM webhook_delivery WHERE event = 'alert.raised'", nil)
	require.NoError(t, err)
	require.Len(t, events, 1, "alert.raised for the firing")
	assert.Contains(t, events[0], `"kind":"plugin_out_of_service"`)
	n, err = a.alerting().UnreadFor(ctx, admin.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	by, err = a.alerting().UnreadCounts(actor.With(ctx, actor.Actor{UserID: admin.ID, Role: actor.RoleAdmin}))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"plugin_out_of_service": 1}, by)
}
