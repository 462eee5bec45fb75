// Package plugintest builds real plugins for tests: WASM modules with
// GOOS=wasip1 GOARCH=wasm -buildmode=c-shared and process plugins as
// native executables, each once per source state (artifacts are cached by
// a hash of the sources under the user cache directory, so test binaries
// and reruns share them). It also has simple in-memory implementations of
// the host services (patients, knowledge base, audit, state store).
//
// For tests only: never import it from production code.
package plugintest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// Root returns the repository root (the directory of the go.mod that
// declares github.com/pfinni/pfinni).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/pfinni/pfinni\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("repository root not found above the working directory")
		}
		dir = parent
	}
}

var buildMu sync.Mutex

// DataDir returns a data directory shared by every test run on this
// machine, for plugin.Options.DataDir: its WASM compilation cache
// (DataDir/plugin-cache) means each module version compiles once per
// machine, not once per test (compiling is slow, slower still with -race).
func DataDir() string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "pfinni", "plugintest", "data")
}

// CacheDir is DataDir's compilation cache, for wasmhost.EngineConfig.
func CacheDir() string { return filepath.Join(DataDir(), "plugin-cache") }

// BuildWASM builds the package at pkgDir (relative to the repository
// root, e.g. "plugins/stub-echo") as a WASM plugin and returns the path
// of the .wasm file.
func BuildWASM(pkgDir string) (string, error) {
	return build(pkgDir, true)
}

// BuildProcess builds the package at pkgDir as a native executable and
// returns its path.
func BuildProcess(pkgDir string) (string, error) {
	return build(pkgDir, false)
}

func build(pkgDir string, wasm bool) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	root, err := Root()
	if err != nil {
		return "", err
	}
	key, err := sourceKey(root, pkgDir, wasm)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	ext := ""
	if wasm {
		ext = ".wasm"
	}
	out := filepath.Join(cache, "pfinni", "plugintest", filepath.Base(pkgDir)+"-"+key[:16]+ext)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	// A temporary name of this process's own: test binaries of several
	// packages build the same plugin at once (go test ./... runs them in
	// parallel), and a shared ".tmp" was renamed away under the other.
	f, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*.tmp")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	_ = f.Close()
	defer os.Remove(tmp) // after a failed build; renamed away otherwise
	args := []string{"build", "-trimpath", "-o", tmp}
	if wasm {
		args = append(args, "-buildmode=c-shared")
	}
	cmd := exec.Command("go", append(args, "./"+filepath.ToSlash(pkgDir))...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	if wasm {
		cmd.Env = append(cmd.Env, "GOOS=wasip1", "GOARCH=wasm")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkgDir, err, b)
	}
	return out, os.Rename(tmp, out)
}

// sourceKey hashes the Go sources the plugin may depend on: the sdk
// module and the plugin's own directory.
func sourceKey(root, pkgDir string, wasm bool) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), wasm)
	// Everything a plugin build can read: the SDK, the shared plugin
	// packages, the root module's requirements and the plugin itself.
	for _, dir := range []string{"sdk", "plugins/internal", "go.mod", pkgDir} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			if d.IsDir() || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "go.mod")) || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintln(h, p, len(b))
			h.Write(b)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
