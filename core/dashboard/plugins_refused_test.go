package dashboard_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/core/plugin"
)

// The plugins page shows a manifest entry refused at start with its
// reason and no Enable button, answers 409 naming the reason when it is
// enabled anyway, and says when the manifest needs a restart.
func TestPluginsPageShowsRefusedEntries(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.plugins.refused = []plugin.Info{{Name: "typo", State: plugin.StateRefused, Reason: `plugin "typo": field enabeld (line 9): unknown field`}}
	f.plugins.notice = "plugin-manifest.yaml has changed since pfinni started: restart pfinni to load the change"
	c := f.client().login(adminEmail)

	r := c.get("/admin/plugins")
	assert.Contains(t, r.body, `id="plugin-typo"`)
	assert.Contains(t, r.body, "state-refused")
	assert.Contains(t, r.body, "field enabeld (line 9)")
	assert.Contains(t, r.body, "data-plugin-refused")
	assert.NotContains(t, r.body, `/admin/plugins/typo/enable`)
	assert.Contains(t, r.body, "data-plugin-manifest-notice")
	assert.Contains(t, r.body, "restart pfinni to load the change")

	r = c.post("/admin/plugins/typo/enable", nil)
	assert.Equal(t, http.StatusConflict, r.status)
	assert.Contains(t, r.body, "field enabeld")
}
