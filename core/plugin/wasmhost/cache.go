package wasmhost

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
)

// The compilation cache is wazero's own (wazero.NewCompilationCacheWithDir):
// its entries are keyed by the SHA-256 of the module's bytes (with the
// interruption mode and the CPU's features), under a folder per wazero
// version, and written by rename, so one cache folder can be shared by
// every data dir and process of an installation. Beside it the Engine
// keeps one empty marker file per module it has compiled, named by the
// same checksum, so that a load can say beforehand whether it will
// compile (slow, the first start) or read the cache (fast): start-up
// progress is printed only for the former. A marker is a hint, never
// trusted for correctness: wazero checks its own entries.

// markerDir is the folder of compiled-module markers for this wazero
// version and architecture.
func markerDir(cacheDir string) string {
	v := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				v = d.Version
			}
		}
	}
	return filepath.Join(cacheDir, "pfinni-compiled", v+"-"+runtime.GOARCH)
}

func markerName(wasm []byte, uninterruptible bool) string {
	sum := sha256.Sum256(wasm)
	mode := "-i"
	if uninterruptible {
		mode = "-u"
	}
	return hex.EncodeToString(sum[:]) + mode
}

// Cached reports whether a module with these bytes and this interruption
// mode was compiled into this Engine's on-disk cache before (so Load will
// not compile it again). Always false with an in-memory cache.
func (e *Engine) Cached(wasm []byte, uninterruptible bool) bool {
	if e.cacheDir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(markerDir(e.cacheDir), markerName(wasm, uninterruptible)))
	return err == nil
}

// markCached records that the module is now in the on-disk cache.
func (e *Engine) markCached(wasm []byte, uninterruptible bool) {
	if e.cacheDir == "" {
		return
	}
	dir := markerDir(e.cacheDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		e.logger.Warn("wasm compilation cache marker", "err", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, markerName(wasm, uninterruptible)), nil, 0o600); err != nil {
		e.logger.Warn("wasm compilation cache marker", "err", err)
	}
}
