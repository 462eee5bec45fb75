package ccda

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pfinni/pfinni/sdk"
)

func TestDump(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip()
	}
	files, _ := filepath.Glob("../../../../shared/testdata/ccda/*/*.xml")
	f2, _ := filepath.Glob("../../../../shared/testdata/ccda/*/*/*.xml")
	for _, f := range append(files, f2...) {
		b, _ := os.ReadFile(f)
		res, err := Parse(context.Background(), sdk.ImportRequest{Document: b})
		j, _ := json.Marshal(res)
		fmt.Printf("== %s err=%v\n%s\n", filepath.Base(f), err, j)
	}
}
