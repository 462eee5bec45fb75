package hostcall

import (
	"os"
	"testing"

	"github.com/pfinni/pfinni/core/store/storetest"
)

// The database starts only for the tests that use it.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
