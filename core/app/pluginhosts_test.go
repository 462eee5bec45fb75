package app

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/core/config"
)

// The LLM adapter's egress proxy admits llm_url's host and port only.
func TestPluginHostsAdmitTheLLMEndpointOnly(t *testing.T) {
	for url, want := range map[string][]string{
		"":                               nil,
		"http://127.0.0.1:11434/v1":      {"127.0.0.1:11434"},
		"https://api.openai.com/v1":      {"api.openai.com:443"},
		"http://llm.internal/v1":         {"llm.internal:80"},
		"http://[::1]:8000/v1":           {"[::1]:8000"},
		"not a url with no host at all ": nil,
	} {
		got := pluginHosts(&config.Config{LLMURL: url})
		if want == nil {
			assert.Nil(t, got, url)
			continue
		}
		assert.Equal(t, map[string][]string{llmPlugin: want}, got, url)
	}
}
