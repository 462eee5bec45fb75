package app

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/core/config"
)

// The operator's clearinghouse replaces the manifest's stub endpoint and
// is the one host the adapter's egress proxy adds; without it, the
// manifest's config and allow-list stand alone.
func TestInsuranceSettingsReachThePlugin(t *testing.T) {
	none := &config.Config{}
	assert.Nil(t, insuranceConfig(none, nil))
	assert.Nil(t, insuranceHosts(none, nil))

	cfg := &config.Config{InsuranceURL: "https://clearinghouse.example/x12", InsuranceUser: "practice", InsurancePassword: "s3cret"}
	llm := map[string]map[string]any{llmPlugin: {"url": "https://llm.example/v1"}}
	got := insuranceConfig(cfg, llm)
	assert.Equal(t, map[string]any{"url": "https://clearinghouse.example/x12", "username": "practice", "password": "s3cret"}, got[insurancePlugin])
	assert.Equal(t, "https://llm.example/v1", got[llmPlugin]["url"], "other plugins' config is kept")

	hosts := insuranceHosts(cfg, map[string][]string{llmPlugin: {"llm.example:443"}})
	assert.Equal(t, []string{"clearinghouse.example:443"}, hosts[insurancePlugin])
	assert.Equal(t, []string{"llm.example:443"}, hosts[llmPlugin])
	assert.Equal(t, []string{"10.0.0.5:8089"}, insuranceHosts(&config.Config{InsuranceURL: "http://10.0.0.5:8089/x12"}, nil)[insurancePlugin])
}
