package importer_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

func zipBytes(t *testing.T, entries map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// lieAboutSize rewrites the header of the entry named name to claim 100
// bytes: the reader must judge it by what it really expands to.
func lieAboutSize(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		raw, err := f.OpenRaw()
		require.NoError(t, err)
		h := f.FileHeader
		if h.Name == name {
			h.UncompressedSize64 = 100
		}
		w, err := zw.CreateRaw(&h)
		require.NoError(t, err)
		_, err = io.Copy(w, raw)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestZipRatioOnEveryEntry: entries under 1 MiB are checked for their
// compression ratio too (they skipped it before), and an entry whose
// header understates its size is refused by what it really expands to.
func TestZipRatioOnEveryEntry(t *testing.T) {
	bomb := bytes.Repeat([]byte{' '}, 600<<10) // 600 KiB of spaces: ~1000:1, under 1 MiB
	doc := fhirPatient("Z-1", "Ann", "Lee", "1980-01-01", "female", "")
	for name, data := range map[string][]byte{
		"honest header": zipBytes(t, map[string][]byte{"bomb.xml": bomb, "ok.xml": doc}),
		"lying header":  lieAboutSize(t, zipBytes(t, map[string][]byte{"bomb.xml": bomb, "ok.xml": doc}), "bomb.xml"),
	} {
		t.Run(name, func(t *testing.T) {
			got := map[string]importer.Input{}
			for _, in := range importer.ExpandZip("a.zip", data, 10<<20) {
				got[in.Name] = in
			}
			assert.NotEmpty(t, got["a.zip/bomb.xml"].Refused)
			assert.Nil(t, got["a.zip/bomb.xml"].Data)
			assert.Equal(t, doc, got["a.zip/ok.xml"].Data)
		})
	}
}

// TestUploadTotalPerRequest: all the archives of one upload together
// expand to at most ExpandedMax; what comes after is refused unread.
func TestUploadTotalPerRequest(t *testing.T) {
	const maxBytes = 4 << 10 // ExpandedMax = 80 KiB
	env := importertest.New(t, storetest.New(t), nil, importer.Options{MaxBytes: maxBytes})
	up, err := env.Imports.BeginUpload(staff())
	require.NoError(t, err)
	// Three archives of 12 documents of ~3 KiB each: 108 KiB expanded in
	// all, 36 KiB per archive (each alone would pass).
	for a := range 3 {
		entries := map[string][]byte{}
		for i := range 12 {
			d := fhirPatient(fmt.Sprintf("T-%d-%d", a, i), "Pat", "Lee", "1970-01-01", "female", "")
			entries[fmt.Sprintf("p%02d.xml", i)] = append(d, bytes.Repeat([]byte("\n<!-- pad -->"), 200)...)
		}
		require.NoError(t, up.Add(staff(), importer.Input{Name: fmt.Sprintf("batch%d.zip", a), Data: zipBytes(t, entries)}))
	}
	job, err := up.Submit(staff())
	require.NoError(t, err)
	assert.Equal(t, 36, job.Progress.Total)
	var j *importer.Job
	require.Eventually(t, func() bool {
		j, err = env.Imports.Job(staff(), job.ID)
		return err == nil && j.Status == importer.StatusDone
	}, 60*time.Second, 100*time.Millisecond)
	kept, refused := 0, 0
	for _, f := range j.Files {
		if f.DocumentID != "" {
			kept++
		} else {
			refused++
			assert.Contains(t, f.Detail, "total accepted")
		}
	}
	assert.Greater(t, kept, 20)
	assert.Less(t, kept, 36)
	assert.Equal(t, 36-kept, refused)
}

// TestUploadNeedsARole: auditors cannot start an upload (nothing stored).
func TestUploadNeedsARole(t *testing.T) {
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	_, err := env.Imports.BeginUpload(auditor())
	require.ErrorIs(t, err, fault.ErrForbidden)
	_, err = env.Imports.BeginUpload(context.Background())
	require.ErrorIs(t, err, fault.ErrUnauthorized)
}

// TestUploadPlainFiles: documents are kept as they arrive (in batches,
// not all at the end); the total holds for plain files too; an upload
// cannot list more than UploadMaxFiles files.
func TestUploadPlainFiles(t *testing.T) {
	const maxBytes = 6 << 20
	assert.Equal(t, int64(maxBytes), importer.FileMaxBytes("a.xml", maxBytes))
	assert.Equal(t, int64(20*maxBytes), importer.FileMaxBytes("a.ZIP", maxBytes))
	assert.Equal(t, int64(20*maxBytes+1<<20), importer.UploadMaxBytes(maxBytes))

	db := storetest.New(t)
	env := importertest.New(t, db, nil, importer.Options{MaxBytes: maxBytes})
	up, err := env.Imports.BeginUpload(staff())
	require.NoError(t, err)
	pad := func(mrn string, n int) []byte {
		d := fhirPatient(mrn, "Pat", "Lee", "1970-01-01", "female", "")
		return append(d, bytes.Repeat([]byte("\n<!-- pad -->"), n/13)...)
	}
	for i := range 2 {
		require.NoError(t, up.Add(staff(), importer.Input{Name: fmt.Sprintf("big%d.xml", i), Data: pad(fmt.Sprintf("PL-%d", i), 5<<20)}))
	}
	assert.Equal(t, 2, count(t, db, "source_document"), "kept once a batch is full, before Submit")
	require.NoError(t, up.Add(staff(), importer.Input{Name: "refused.xml", Size: 99, Refused: "too big"}))
	assert.Equal(t, 3, up.Files())
	job, err := up.Submit(staff())
	require.NoError(t, err)
	assert.Equal(t, 3, job.Progress.Total)

	// The total per upload (ExpandedMax = 120 MiB here) holds for plain files.
	up, err = env.Imports.BeginUpload(staff())
	require.NoError(t, err)
	doc := pad("PL-x", 5<<20)
	for i := range 25 {
		require.NoError(t, up.Add(staff(), importer.Input{Name: fmt.Sprintf("f%02d.xml", i), Data: doc}))
	}
	assert.Equal(t, 25, up.Files())
	job, err = up.Submit(staff())
	require.NoError(t, err)
	j, err := env.Imports.Job(staff(), job.ID)
	require.NoError(t, err)
	require.Len(t, j.Files, 25)
	// Each file is a little over 5 MiB: 23 fit in 120 MiB, the rest not.
	assert.Empty(t, j.Files[22].Detail)
	for _, f := range j.Files[23:] {
		assert.Contains(t, f.Detail, "more than the total accepted")
	}

	// Too many files.
	up, err = env.Imports.BeginUpload(staff())
	require.NoError(t, err)
	for i := range importer.UploadMaxFiles {
		require.NoError(t, up.Add(staff(), importer.Input{Name: fmt.Sprintf("%d.xml", i), Refused: "x"}))
	}
	err = up.Add(staff(), importer.Input{Name: "one-more.xml", Refused: "x"})
	require.ErrorIs(t, err, fault.ErrTooLarge)

	// An empty upload is refused at Submit.
	up, err = env.Imports.BeginUpload(staff())
	require.NoError(t, err)
	_, err = up.Submit(staff())
	require.ErrorIs(t, err, fault.ErrInvalid)
}
