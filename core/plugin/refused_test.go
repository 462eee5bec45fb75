package plugin

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A manifest entry refused at start is listed with its reason; enabling
// it names the reason instead of "not found".
func TestRefusedEntriesAreListedWithTheirReason(t *testing.T) {
	path := writeManifest(t,
		plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}"},
		plug{name: "typo", stub: "stub-echo", provides: "{intents: [{name: echo.say}]}", extra: "    enabeld: true\n"},
	)
	r := start(t, Options{ManifestPath: path})

	refused := r.Refused()
	require.Len(t, refused, 1)
	assert.Equal(t, "typo", refused[0].Name)
	assert.Equal(t, StateRefused, refused[0].State)
	assert.Contains(t, refused[0].Reason, "field enabeld")
	assert.NotContains(t, states(r), "typo", "List keeps to the installed plugins")

	_, err := r.Enable(admin(), "typo")
	assert.ErrorIs(t, err, ErrRefused)
	assert.ErrorContains(t, err, "field enabeld")
	assert.ErrorContains(t, err, "fix plugin-manifest.yaml and restart pfinni")

	_, err = r.Enable(admin(), "nope")
	assert.ErrorIs(t, err, ErrNotFound)
}

// The registry reads the manifest once: a change says that it takes a
// restart.
func TestManifestChangeAsksForARestart(t *testing.T) {
	path := writeManifest(t, plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}"})
	r := start(t, Options{ManifestPath: path})
	assert.Empty(t, r.ManifestNotice())

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(b, "# edited\n"...), 0o644))
	assert.Contains(t, r.ManifestNotice(), "plugin-manifest.yaml has changed since pfinni started: restart pfinni")

	require.NoError(t, os.WriteFile(path, b, 0o644))
	assert.Empty(t, r.ManifestNotice(), "back as it was read")
}
