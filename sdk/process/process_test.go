package process

import (
	"context"
	"testing"

	"github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/proto/pluginv1"
)

type adapter struct{}

func (adapter) CheckEligibility(context.Context, sdk.EligibilityRequest) (sdk.EligibilityResponse, error) {
	return sdk.EligibilityResponse{Status: "active"}, nil
}

// The gRPC glue, end to end in one process (go-plugin's test helper).
func TestGRPCGlue(t *testing.T) {
	impl := &sdk.Plugin{Name: "t", Insurance: adapter{}}
	client, _ := plugin.TestPluginGRPCConn(t, false, PluginSets(impl)[ProtocolVersion])
	defer client.Close()
	raw, err := client.Dispense(PluginName)
	require.NoError(t, err)
	c := raw.(pluginv1.PluginClient)
	ctx := context.Background()

	res, err := c.Init(ctx, &pluginv1.InitRequest{Config: []byte(`{}`), SdkVersion: sdk.Version})
	require.NoError(t, err)
	var info map[string]any
	require.NoError(t, sdk.DecodeEnvelope(res.GetEnvelope(), &info))
	assert.Equal(t, "t", info["name"])

	res, err = c.Handle(ctx, &pluginv1.HandleRequest{Hook: sdk.HookEligibility, Input: []byte(`{"payer":"X","member_id":"1"}`)})
	require.NoError(t, err)
	var el sdk.EligibilityResponse
	require.NoError(t, sdk.DecodeEnvelope(res.GetEnvelope(), &el))
	assert.Equal(t, "active", el.Status)

	res, err = c.Health(ctx, &pluginv1.HealthRequest{})
	require.NoError(t, err)
	assert.NoError(t, sdk.DecodeEnvelope(res.GetEnvelope(), nil))
	assert.Equal(t, 1, ProtocolVersion)
}
