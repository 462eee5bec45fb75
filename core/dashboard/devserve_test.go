package dashboard_test

import (
	"os"
	"testing"
)

// TestDevServe serves the fixture (seeded, under /pfinni) on
// $PFINNI_DASHBOARD_DEVSERVE until killed: a development aid for looking
// at the pages in a browser. Skipped unless the variable is set.
func TestDevServe(t *testing.T) {
	addr := os.Getenv("PFINNI_DASHBOARD_DEVSERVE")
	if addr == "" {
		t.Skip("set PFINNI_DASHBOARD_DEVSERVE=127.0.0.1:port to serve the pages")
	}
	f := newFixture(t, fixtureOpts{base: "/pfinni", patients: 300, realAssets: true})
	_ = f.srv.App().Listen(addr)
}
