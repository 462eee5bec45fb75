package importer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/importer/importertest"
	"github.com/pfinni/pfinni/core/store/storetest"
)

const samplesTxt = "testdata/samples.txt"

// summary is one line of testdata/samples.txt: a file's result when the
// whole sample folder is imported into an empty database, in name order.
func summary(f importer.File, root string) string {
	name := strings.TrimPrefix(f.Name, root+"/")
	var errs []string
	for _, p := range f.Problems {
		if p.Severity == "error" {
			errs = append(errs, p.Element+": "+p.Message)
		}
	}
	line := fmt.Sprintf("%s\t%s\trecords=%d\tpatients=%d\twarnings=%d", name, f.Result, f.Records, len(f.PatientIDs), len(f.Problems)-len(errs))
	if f.Result == importer.ResultRejected || len(errs) > 0 {
		detail := f.Detail
		if len(errs) > 0 {
			detail = strings.Join(errs, "; ")
		}
		line += "\t" + detail
	}
	return line
}

// TestEverySample imports every public sample (../shared/testdata) end
// to end — real WASM importers, real patient service, real database —
// and checks each file's result against testdata/samples.txt (checked by
// hand; regenerate with -update). Samples that share an MRN meet the
// matching rules: the same person again is updated or unchanged, another
// person under the same MRN is a conflict, reported and not applied.
func TestEverySample(t *testing.T) {
	dir := importertest.SamplesDir()
	if dir == "" {
		t.Skip("../shared/testdata not present")
	}
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	ins, err := importer.Collect([]string{dir}, env.Imports.MaxBytes())
	require.NoError(t, err)
	job, err := env.Imports.Run(staff(), ins, nil)
	require.NoError(t, err)
	assert.Equal(t, importer.StatusDone, job.Status)
	require.Len(t, job.Files, len(ins))

	root := filepath.ToSlash(filepath.Clean(dir))
	var lines []string
	for _, f := range job.Files {
		assert.Equal(t, "done", f.State, f.Name)
		assert.NotEmpty(t, f.Result, f.Name)
		assert.NotEmpty(t, f.DocumentID, "every document is kept: %s", f.Name)
		assert.Equal(t, f.Result == importer.ResultRejected || hasError(f), f.Quarantined, f.Name)
		lines = append(lines, summary(f, root))
	}
	got := "# file\tresult\trecords\tpatients\twarnings\tdetail (go test ./core/importer -run TestEverySample -update; checked by hand)\n" + strings.Join(lines, "\n") + "\n"
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(samplesTxt, []byte(got), 0o644))
	}
	want, err := os.ReadFile(samplesTxt)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), got)

	c := job.Counts
	assert.Equal(t, len(ins), c.Created+c.Updated+c.Unchanged+c.Rejected)
	assert.Equal(t, importer.Progress{Done: len(ins), Total: len(ins)}, job.Progress)
}

func hasError(f importer.File) bool {
	for _, p := range f.Problems {
		if p.Severity == "error" {
			return true
		}
	}
	return false
}
