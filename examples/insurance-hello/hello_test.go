package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
)

func TestAdapterNatively(t *testing.T) {
	res, err := adapter{}.CheckEligibility(context.Background(), sdk.EligibilityRequest{Payer: "HELLO", MemberID: "42"})
	require.NoError(t, err)
	assert.Equal(t, "active", res.Status)
	assert.Equal(t, "HELLO-42", res.Reference)
}

// The same plugin built as an executable runs through the real process
// host in pfinni's own tests (core/plugin/examples_test.go).
