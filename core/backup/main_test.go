package backup_test

import (
	"os"
	"testing"

	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
