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
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
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
	if f.Result == importer.ResultRejected || f.Result == importer.ResultNeedsReview || len(errs) > 0 {
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
	// One applier: which of two look-alike documents is created and which
	// waits for review depends on their order, and the golden file is in
	// name order.
	env := importertest.New(t, storetest.New(t), nil, importer.Options{ApplyWorkers: 1})
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

	// Every document (not the notes, not the bare fragments) ends
	// created, updated, unchanged or waiting for review with a reason.
	byName := map[string]importer.File{}
	for _, f := range job.Files {
		name := strings.TrimPrefix(filepath.ToSlash(f.Name), root+"/")
		byName[name] = f
		if strings.HasSuffix(name, ".md") || strings.Contains(name, "/fragments/") {
			continue
		}
		assert.Contains(t, []string{importer.ResultCreated, importer.ResultUpdated, importer.ResultUnchanged, importer.ResultNeedsReview}, f.Result, name)
		if f.Result == importer.ResultNeedsReview {
			assert.Contains(t, f.Detail, "wait for review: ", name)
		}
	}

	// The known collision: EMERGE Patient-0 and Patient-1 and the HL7
	// discharge summary share an identifier but are three people. The
	// first is created; the others are never applied to it: they wait
	// for review with the first as a candidate.
	p0 := byName["ccda/chb-sample_ccdas/emerge_patient-0.xml"]
	require.Equal(t, importer.ResultCreated, p0.Result)
	require.Len(t, p0.PatientIDs, 1)
	entries, err := env.Review.List(staff(), 0)
	require.NoError(t, err)
	for _, name := range []string{"ccda/chb-sample_ccdas/emerge_patient-1.xml", "ccda/hl7-c-cda-examples/discharge_summary.xml"} {
		f := byName[name]
		assert.Equal(t, importer.ResultNeedsReview, f.Result, name)
		assert.Empty(t, f.PatientIDs, name)
		var found bool
		for _, e := range entries {
			if e.FileID == f.ID {
				found = true
				assert.Equal(t, review.ReasonIdentifierCollision, e.Reason, name)
				assert.Contains(t, e.PatientIDs, p0.PatientIDs[0], name)
			}
		}
		assert.True(t, found, "a review item for %s", name)
	}
	p, err := env.Patients.Get(staff(), p0.PatientIDs[0])
	require.NoError(t, err)
	assert.Equal(t, 1, p.Version, "nothing was applied to Patient-0's record")

	c := job.Counts
	assert.Equal(t, len(ins), c.Created+c.Updated+c.Unchanged+c.Rejected+c.NeedsReview)
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
