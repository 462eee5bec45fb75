package dashboard_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin"
)

// The plugins page says that a process plugin is fully trusted, which
// hosts it may reach, and the checksum an admin approves (security
// review M5).
func TestPluginsPageShowsTrust(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	sum := "8f9cfd799ac59a9c2d5438cf7dde74f68a45ed8c7e5c8d84d2ad827ba8e67d02"
	f.plugins.mu.Lock()
	f.plugins.ps[0].Trust, f.plugins.ps[0].SHA256 = plugin.TrustSandboxed, "aa"
	f.plugins.ps = append(f.plugins.ps, plugin.Info{Name: "llm-openai", Version: "1.0.0", Kind: "process", Enabled: false, State: plugin.StateDisabled,
		Trust: plugin.TrustFull, SHA256: sum, AllowedHosts: []string{"127.0.0.1:11434"}, Capabilities: []string{"network"}})
	f.plugins.mu.Unlock()
	r := f.client().login(adminEmail).get("/admin/plugins")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `data-plugin-trust="full"><strong>fully trusted</strong>`)
	assert.Contains(t, r.body, `outbound HTTP only to <code>127.0.0.1:11434</code>`)
	assert.Contains(t, r.body, `<code data-plugin-sha256>`+sum+`</code>`)
	assert.Contains(t, r.body, `data-plugin-trust="sandboxed">sandboxed`)
	assert.Contains(t, r.body, "Process plugins are <strong>fully trusted</strong>")
}
