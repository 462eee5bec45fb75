package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/sdktest"
)

// Natively, through the same dispatch the WASM runtime uses.
func TestHandlerNatively(t *testing.T) {
	p, ok := wasmRegistered()
	require.True(t, ok)
	host := &sdktest.Host{}
	var m sdk.MatchResult
	require.NoError(t, sdktest.Call(context.Background(), p, host, sdk.HookIntentMatch, sdk.MatchRequest{Message: "Hello there"}, &m))
	assert.Equal(t, "greeting.hello", m.Intent)
	var r sdk.IntentReply
	require.NoError(t, sdktest.Call(context.Background(), p, host, sdk.HookIntentHandle, sdk.IntentRequest{Message: "hi", Context: sdk.PageContext{Page: "/patients"}}, &r))
	assert.Len(t, r.Actions, 1)
	assert.Equal(t, []string{"greeting on /patients"}, host.Logs())
}

// The same plugin built as a WASM module runs through the real host in
// pfinni's own tests (core/plugin/examples_test.go); a plugin in its own
// module tests natively with sdk/sdktest, as above.
