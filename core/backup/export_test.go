package backup_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// failAfter accepts n bytes, then fails every write.
type failAfter struct{ n int }

var errDiskFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errDiskFull
	}
	f.n -= len(p)
	return len(p), nil
}

// A write failing anywhere in the file fails the export with the
// writer's error (the service then removes the partial file).
func TestExportFailsWithItsWriter(t *testing.T) {
	db := storetest.New(t)
	keyFile := seed(t, db, 1500)
	var full bytes.Buffer
	opts := backup.ExportOptions{Key: bytes.Repeat([]byte{3}, 32), KeyFiles: []backup.KeyFileSource{{Name: "audit.key", Path: keyFile}}}
	_, err := backup.Export(context.Background(), db, &full, opts)
	require.NoError(t, err)
	for _, n := range []int{0, 10, full.Len() / 2, full.Len() - 20} {
		_, err := backup.Export(context.Background(), db, &failAfter{n: n}, opts)
		assert.ErrorIs(t, err, errDiskFull, "failing after %d of %d bytes", n, full.Len())
	}
	_, err = backup.Export(context.Background(), db, io.Discard, backup.ExportOptions{KeyFiles: []backup.KeyFileSource{{Name: "x", Path: t.TempDir()}}})
	assert.ErrorContains(t, err, "read key file", "a key file that cannot be read")
	m, err := backup.Export(context.Background(), db, io.Discard, backup.ExportOptions{KeyFiles: []backup.KeyFileSource{{Name: "webhook.key", Path: filepath.Join(t.TempDir(), "none")}}})
	require.NoError(t, err)
	assert.Empty(t, m.KeyFiles, "a key file never created is not named")
}

// A database that went away fails the export and the digests.
func TestExportNeedsTheDatabase(t *testing.T) {
	db := storetest.New(t)
	require.NoError(t, db.Close())
	_, err := backup.Export(context.Background(), db, io.Discard, backup.ExportOptions{})
	assert.ErrorContains(t, err, "list tables")
	_, _, err = backup.Digests(context.Background(), db, 0)
	assert.Error(t, err)
}
