package plugin

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
)

// The examples authors copy (examples/*) test themselves against the SDK
// only; here they run as built artifacts through the real host.

func TestExampleIntentThroughTheHost(t *testing.T) {
	r := start(t, Options{ManifestPath: writeManifest(t, plug{name: "intent-hello", provides: "{intents: [{name: greeting.hello}]}", caps: []string{"log"}})})

	reply, ok, err := r.Respond(staff(), "hello", sdk.PageContext{Page: "/patients"})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "greeting.hello", reply.Intent)
	assert.Contains(t, reply.Reply, "Hello!")
	require.NotEmpty(t, reply.Actions)
	assert.Equal(t, "/patients/new", reply.Actions[0].Target)
}

func TestExampleInsuranceThroughTheHost(t *testing.T) {
	r := start(t, Options{ManifestPath: writeManifest(t, plug{name: "insurance-hello", kind: "process", provides: "{insurance: true}"})})

	res, err := r.CheckEligibility(context.Background(), sdk.EligibilityRequest{Payer: "HELLO", MemberID: "42"})
	require.NoError(t, err)
	assert.Equal(t, "active", res.Status)
	assert.Equal(t, "HELLO-42", res.Reference)
}
