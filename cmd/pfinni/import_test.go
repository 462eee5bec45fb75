package main

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// fhirAda's identifier has a system: one without goes to the identity
// review queue (it cannot be matched safely).
const fhirAda = `<Patient xmlns="http://hl7.org/fhir"><identifier><system value="urn:oid:1.2.3.4"/><value value="CLI-1"/></identifier><name><family value="Lovelace"/><given value="Ada"/></name><gender value="female"/><birthDate value="1915-12-10"/></Patient>`

// TestImportCommand imports a folder (with a nested folder and a zip)
// through the CLI function against a real database and the real importer
// plugins, then the public samples folder; a second run changes nothing.
func TestImportCommand(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "ada.xml"), []byte(fhirAda), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".hidden.xml"), []byte("ignored"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not xml"), 0o644))
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("b.xml")
	// Another person (name and birth date), or the duplicate scorer
	// sends her to review as a likely Ada.
	bea := strings.NewReplacer("CLI-1", "CLI-2", "Ada", "Bea", "Lovelace", "Quill", "1915-12-10", "1975-06-07").Replace(fhirAda)
	_, _ = w.Write([]byte(bea))
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "more.zip"), zbuf.Bytes(), 0o644))

	ctx := actor.System(context.Background())
	var out, prog bytes.Buffer
	err := importTo(ctx, env.Imports, []string{dir}, &out, &prog, false)
	require.ErrorIs(t, err, ErrSomeRejected, out.String())
	assert.Contains(t, prog.String(), "1/3 ")
	assert.Contains(t, prog.String(), "3/3 ")
	s := out.String()
	assert.Contains(t, s, "FILE")
	assert.Contains(t, s, "more.zip/b.xml")
	assert.Contains(t, s, "created 2, updated 0, unchanged 0, rejected 1")
	assert.NotContains(t, s, ".hidden")

	// Again, with a terminal progress bar: nothing changes.
	out.Reset()
	prog.Reset()
	err = importTo(ctx, env.Imports, []string{filepath.Join(dir, "sub"), filepath.Join(dir, "more.zip")}, &out, &prog, true)
	require.NoError(t, err)
	assert.Contains(t, prog.String(), "\r[")
	assert.Contains(t, out.String(), "created 0, updated 0, unchanged 2, rejected 0")

	// Usage and a path that does not exist.
	require.Error(t, importTo(ctx, env.Imports, nil, &out, &prog, false))
	require.NoError(t, importTo(ctx, env.Imports, []string{"--help"}, &out, &prog, false))
	require.Error(t, importTo(ctx, env.Imports, []string{filepath.Join(dir, "nope")}, &out, &prog, false))

	if samples := importertest.SamplesDir(); samples != "" {
		out.Reset()
		err = importTo(ctx, env.Imports, []string{samples}, &out, &prog, false)
		require.ErrorIs(t, err, ErrSomeRejected)
		assert.Contains(t, out.String(), "TOTAL 91 files")
	}
}
