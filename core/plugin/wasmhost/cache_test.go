package wasmhost

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cached tells beforehand whether a module's bytes, in an interruption
// mode, are in the on-disk cache: per checksum and mode, never with an
// in-memory cache, and a cache folder that cannot be written only costs
// the hint.
func TestCachedMarkers(t *testing.T) {
	mod, other := []byte("module bytes"), []byte("other module bytes")
	e, err := NewEngine(EngineConfig{CacheDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	assert.False(t, e.Cached(mod, true))
	e.markCached(mod, true)
	assert.True(t, e.Cached(mod, true))
	assert.False(t, e.Cached(mod, false), "the interruption mode compiles differently")
	assert.False(t, e.Cached(other, true), "keyed by the bytes' checksum")

	mem, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = mem.Close(context.Background()) })
	mem.markCached(mod, true)
	assert.False(t, mem.Cached(mod, true), "an in-memory cache never survives")

	dir := t.TempDir()
	ro, err := NewEngine(EngineConfig{CacheDir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ro.Close(context.Background()) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pfinni-compiled"), nil, 0o600)) // a file where the folder goes
	ro.markCached(mod, true)
	assert.False(t, ro.Cached(mod, true))
}
