package backup_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// fixture is a seeded database, its audit key file and a plain and an
// encrypted backup of it.
type fixture struct {
	src           *store.DB
	keyFile       string
	plain, sealed []byte
	key           []byte
	manifest      backup.Manifest
	dir           string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	f := fixture{src: storetest.New(t), key: bytes.Repeat([]byte{9}, backup.KeySize), dir: t.TempDir()}
	f.keyFile = seed(t, f.src, 12)
	kf := []backup.KeyFileSource{{Name: "audit.key", Path: f.keyFile}}
	var buf bytes.Buffer
	var err error
	f.manifest, err = backup.Export(context.Background(), f.src, &buf, backup.ExportOptions{Version: "v1", KeyFiles: kf})
	require.NoError(t, err)
	f.plain = bytes.Clone(buf.Bytes())
	buf.Reset()
	_, err = backup.Export(context.Background(), f.src, &buf, backup.ExportOptions{Version: "v1", KeyFiles: kf, Key: f.key})
	require.NoError(t, err)
	f.sealed = bytes.Clone(buf.Bytes())
	return f
}

func (f fixture) file(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// withManifest returns data with its manifest changed by edit.
func withManifest(t *testing.T, data []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	n := len(data)
	ml := int(binary.BigEndian.Uint64(data[n-16 : n-8]))
	var m map[string]any
	require.NoError(t, json.Unmarshal(data[n-16-ml:n-16], &m))
	edit(m)
	mb, err := json.Marshal(m)
	require.NoError(t, err)
	out := append(bytes.Clone(data[:n-16-ml]), mb...)
	var l [8]byte
	binary.BigEndian.PutUint64(l[:], uint64(len(mb)))
	out = append(out, l[:]...)
	return append(out, data[n-8:]...)
}

// manifestLen is the length of data's manifest.
func manifestLen(data []byte) int {
	n := len(data)
	return int(binary.BigEndian.Uint64(data[n-16 : n-8]))
}

// keyCopy puts a copy of the audit key file in a new folder.
func (f fixture) keyCopy(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "audit.key")
	b, err := os.ReadFile(f.keyFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

func TestRestoreRefusesWhatItCannotTrust(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	flip := func(b []byte, at int) []byte { b = bytes.Clone(b); b[at] ^= 0xff; return b }
	cases := []struct {
		name string
		data []byte
		key  []byte
		want error
		text string
	}{
		{"not a backup", []byte("hello, this is no backup at all"), nil, backup.ErrCorrupt, "not a pfinni backup"},
		{"too short", []byte("PF"), nil, backup.ErrCorrupt, "too short"},
		{"truncated", f.plain[:len(f.plain)-3], nil, backup.ErrCorrupt, "end marker"},
		{"newer format", withManifest(t, f.plain, func(m map[string]any) { m["format"] = 2 }), nil, backup.ErrIncompatible, "backup format 2"},
		{"unknown table", withManifest(t, f.plain, func(m map[string]any) {
			m["tables"].(map[string]any)["hologram"] = map[string]any{"count": 1, "sha256": "x"}
		}), nil, backup.ErrIncompatible, `table "hologram"`},
		{"content changed", flip(f.plain, 40), nil, backup.ErrCorrupt, ""},
		{"count lies", withManifest(t, f.plain, func(m map[string]any) {
			m["tables"].(map[string]any)["patient"] = map[string]any{"count": 31, "sha256": "x"}
		}), nil, backup.ErrCorrupt, "table patient has 30 records"},
		{"content hash lies", withManifest(t, f.plain, func(m map[string]any) { m["content_sha256"] = "00" }), nil, backup.ErrCorrupt, "content hash"},
		{"encrypted, no key", f.sealed, nil, backup.ErrBadKey, "PFINNI_BACKUP_KEY"},
		{"encrypted, wrong key", f.sealed, bytes.Repeat([]byte{1}, 32), backup.ErrBadKey, ""},
		{"sealed content changed", flip(f.sealed, 200), f.key, backup.ErrBadKey, "or the file was changed"},
		{"sealed content cut", withManifest(t, append(bytes.Clone(f.sealed[:len(f.sealed)-16-manifestLen(f.sealed)-30]), f.sealed[len(f.sealed)-16-manifestLen(f.sealed):]...), func(map[string]any) {}), f.key, backup.ErrCorrupt, "ends early"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := storetest.New(t)
			_, err := backup.Restore(ctx, dst, f.file(t, "b.pfbak", tc.data), backup.RestoreOptions{Key: tc.key,
				KeyFiles: []backup.KeyFileSource{{Name: "audit.key", Path: f.keyCopy(t)}}})
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.text)
			got, _, err := backup.Digests(ctx, dst, 0)
			require.NoError(t, err)
			assert.Zero(t, got["patient"].Count, "nothing was restored")
			assert.Zero(t, got["audit"].Count)
		})
	}
}

func TestRestoreKeyFiles(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	plain := f.file(t, "plain.pfbak", f.plain)
	sealed := f.file(t, "sealed.pfbak", f.sealed)
	restore := func(t *testing.T, path string, key []byte, target string, force bool) error {
		_, err := backup.Restore(ctx, storetest.New(t), path, backup.RestoreOptions{Key: key, Force: force,
			KeyFiles: []backup.KeyFileSource{{Name: "audit.key", Path: target}}})
		return err
	}
	t.Run("kept key missing", func(t *testing.T) {
		err := restore(t, plain, nil, filepath.Join(t.TempDir(), "audit.key"), false)
		require.ErrorIs(t, err, backup.ErrKeyFile)
		assert.Contains(t, err.Error(), "copy the installation's audit.key")
	})
	t.Run("kept key is another one", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "audit.key")
		_, err := audit.RotateKeyFile(other, time.Now())
		require.NoError(t, err)
		err = restore(t, plain, nil, other, false)
		require.ErrorIs(t, err, backup.ErrKeyFile)
		assert.Contains(t, err.Error(), "is not the audit.key")
	})
	t.Run("kept key rotated since", func(t *testing.T) {
		rotated := f.keyCopy(t)
		_, err := audit.RotateKeyFile(rotated, time.Now())
		require.NoError(t, err)
		require.NoError(t, restore(t, plain, nil, rotated, false), "a later key file still holds the key")
	})
	t.Run("included key written", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "sub", "audit.key")
		require.NoError(t, restore(t, sealed, f.key, target, false))
		want, _ := os.ReadFile(f.keyFile)
		got, err := os.ReadFile(target)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		fi, _ := os.Stat(target)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	})
	t.Run("included key differs from the one there", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "audit.key")
		_, err := audit.RotateKeyFile(other, time.Now())
		require.NoError(t, err)
		err = restore(t, sealed, f.key, other, false)
		require.ErrorIs(t, err, backup.ErrKeyFile)
		assert.Contains(t, err.Error(), "--force")
		require.NoError(t, restore(t, sealed, f.key, other, true))
		want, _ := os.ReadFile(f.keyFile)
		got, _ := os.ReadFile(other)
		assert.Equal(t, want, got, "--force puts the backup's key in place")
	})
	t.Run("nowhere to put it", func(t *testing.T) {
		_, err := backup.Restore(ctx, storetest.New(t), sealed, backup.RestoreOptions{Key: f.key})
		require.ErrorIs(t, err, backup.ErrKeyFile)
	})
}

// A database holding records is refused unless forced; forced, it ends up
// holding exactly the backup (the sessions it had are gone too), and the
// old audit head file is removed.
func TestRestoreIntoAFullDatabase(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	path := f.file(t, "b.pfbak", f.plain)
	dst := storetest.New(t)
	seed(t, dst, 3)
	head := filepath.Join(t.TempDir(), "audit.head")
	require.NoError(t, os.WriteFile(head, []byte(`{"seq":3}`), 0o600))
	opts := backup.RestoreOptions{KeyFiles: []backup.KeyFileSource{{Name: "audit.key", Path: f.keyCopy(t)}}, HeadFile: head}

	_, err := backup.Restore(ctx, dst, path, opts)
	require.ErrorIs(t, err, backup.ErrNotEmpty)
	assert.Contains(t, err.Error(), "patient")
	assert.FileExists(t, head)

	opts.Force = true
	_, err = backup.Restore(ctx, dst, path, opts)
	require.NoError(t, err)
	got, _, err := backup.Digests(ctx, dst, 0)
	require.NoError(t, err)
	assert.Equal(t, f.manifest.Tables, got)
	n, err := store.Query[int](ctx, dst, "RETURN count(SELECT VALUE id FROM session)", nil)
	require.NoError(t, err)
	assert.Zero(t, n, "sessions are not restored, and forced restore removed the old ones")
	assert.NoFileExists(t, head)
}

// A record this database's schema refuses stops the restore, and what
// was inserted before it is removed again: no half-restored database.
func TestRestoreThatFailsLeavesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	dst := storetest.New(t)
	require.NoError(t, dst.Exec(ctx, "DEFINE FIELD OVERWRITE npi ON provider TYPE string ASSERT $value = ''", nil))
	_, err := backup.Restore(ctx, dst, f.file(t, "b.pfbak", f.plain), backup.RestoreOptions{
		KeyFiles: []backup.KeyFileSource{{Name: "audit.key", Path: f.keyCopy(t)}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "into provider")
	assert.Contains(t, err.Error(), "the database is empty again")
	got, _, err := backup.Digests(ctx, dst, 0)
	require.NoError(t, err)
	for table, d := range got {
		assert.Zero(t, d.Count, table)
	}
}
