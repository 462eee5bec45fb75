package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContractCheck runs the outside contract check
// (shared/tools/contract-check: the API as outside tools use it) against
// a real `pfinni serve` with the first-party plugins, right after it
// said ready. Routes not built are reported SKIP by the script; any
// FAIL fails the test.
func TestContractCheck(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "tools", "contract-check"))
	require.NoError(t, err)
	if _, err := os.Stat(script); err != nil {
		t.Skip("shared/tools/contract-check is not beside the repository")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	manifest, err := filepath.Abs(filepath.Join("..", "..", "plugin-manifest.yaml"))
	require.NoError(t, err)
	bin, dbURL, dbName := processDatabase(t)
	_, base := startServe(t, bin, dbURL, dbName, "PFINNI_PLUGINS_MANIFEST="+manifest)
	out, err := exec.Command(python, script, base, "admin@example.org", serveAdminPassword).CombinedOutput()
	require.NoError(t, err, "contract-check:\n%s", out)
	t.Logf("contract-check:\n%s", out)
}
