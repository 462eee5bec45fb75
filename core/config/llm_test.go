package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLLMNeedsBAA: the LLM adapter cannot be turned on without stating
// that a business associate agreement covers its endpoint.
func TestLLMNeedsBAA(t *testing.T) {
	chdir(t)
	_, err := Load(nil, []string{"PFINNI_LLM_URL=http://127.0.0.1:1/v1"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "llm_url")
	assert.Contains(t, err.Error(), "PFINNI_LLM_BAA=true")

	c, err := Load(nil, []string{"PFINNI_LLM_URL=http://127.0.0.1:1/v1", "PFINNI_LLM_BAA=true"})
	require.NoError(t, err)
	assert.True(t, c.LLMBAA)
	assert.Equal(t, "http://127.0.0.1:1/v1", c.LLMURL)

	c, err = Load(nil, nil)
	require.NoError(t, err)
	assert.False(t, c.LLMBAA, "off by default")
}
