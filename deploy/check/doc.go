// Package check validates pfinni's deployment files offline: the
// Dockerfile and .dockerignore (BuildKit's parser), docker-compose.yml
// (the compose specification's loader), the NGINX configuration (nginx -t
// and a real round trip through NGINX to `pfinni serve`). It is its own
// module so the heavy validators stay out of pfinni's main module; run it
// with `make test-deploy`.
package check

import (
	"os"
	"path/filepath"
	"runtime"
)

// repoRoot is the pfinni repository this module lives in (deploy/check).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// readRepoFile reads a file by its path in the repository.
func readRepoFile(rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(repoRoot(), rel))
}
