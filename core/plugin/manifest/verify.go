package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrChecksum means an artifact's SHA-256 differs from the manifest's.
var ErrChecksum = errors.New("checksum mismatch")

// ErrNoChecksum means the manifest entry has no sha256 to verify against.
var ErrNoChecksum = errors.New("no checksum in manifest (run `make plugins`)")

// ArtifactPath returns the artifact's path resolved against dir, the
// manifest's directory.
func (e Entry) ArtifactPath(dir string) string {
	return filepath.Join(dir, filepath.FromSlash(e.Artifact.Path))
}

// Verify checks the entry's artifact under dir against its SHA-256 and
// returns the artifact's bytes' digest. The error names the plugin.
func Verify(dir string, e Entry) ([]byte, error) {
	if e.Artifact.SHA256 == "" {
		return nil, fmt.Errorf("plugin %q: %w", e.Name, ErrNoChecksum)
	}
	sum, err := FileSHA256(e.ArtifactPath(dir))
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", e.Name, err)
	}
	if got := hex.EncodeToString(sum); got != e.Artifact.SHA256 {
		return nil, fmt.Errorf("plugin %q: artifact %s: %w: manifest says %s, file is %s", e.Name, e.Artifact.Path, ErrChecksum, e.Artifact.SHA256, got)
	}
	return sum, nil
}

// FileSHA256 returns the SHA-256 of the file at path.
func FileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read artifact: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("read artifact: %w", err)
	}
	return h.Sum(nil), nil
}
