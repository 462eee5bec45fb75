package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// TestImportSummaryCountsReview: records waiting in the identity review
// queue (here: an identifier without a system) are counted in the
// summary, so the person running the import knows to look there.
func TestImportSummaryCountsReview(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	dir := t.TempDir()
	doc := `<Patient xmlns="http://hl7.org/fhir"><identifier><value value="NS-1"/></identifier><name><family value="Nosys"/><given value="Nia"/></name></Patient>`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nia.xml"), []byte(doc), 0o644))
	var out, prog bytes.Buffer
	require.NoError(t, importTo(actor.System(context.Background()), env.Imports, []string{dir}, &out, &prog, false))
	assert.Contains(t, out.String(), "needs_review")
	assert.Contains(t, out.String(), "created 0, updated 0, unchanged 0, rejected 0, needs review 1")
}
