package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Compiled plugins live in the user cache dir by default, so a new
// data_dir (a second installation start, a test) does not compile them
// again; plugin_cache_dir moves them; without a user cache dir they go
// under data_dir.
func TestWASMCacheDir(t *testing.T) {
	chdir(t)
	c, err := Load(nil, []string{"PFINNI_DATA_DIR=/srv/pfinni"})
	require.NoError(t, err)
	user, err := os.UserCacheDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(user, "pfinni", "wasm"), c.WASMCacheDir())

	c, err = Load(nil, []string{"PFINNI_PLUGIN_CACHE_DIR=/var/cache/pfinni"})
	require.NoError(t, err)
	assert.Equal(t, "/var/cache/pfinni", c.WASMCacheDir())

	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	c, err = Load(nil, []string{"PFINNI_DATA_DIR=/srv/pfinni"})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("/srv/pfinni", "plugin-cache"), c.WASMCacheDir())
}
