package backup_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// seed fills db with records of several kinds (datetimes, nested
// objects, arrays, record ids with string and number keys) and a keyed
// audit chain of n events; it returns the audit key file.
func seed(t *testing.T, db *store.DB, n int) string {
	t.Helper()
	ctx := context.Background()
	keyFile := filepath.Join(t.TempDir(), "audit.key")
	keys, err := audit.LoadKeyring(keyFile)
	require.NoError(t, err)
	require.NoError(t, db.Exec(ctx, `
		CREATE provider:p1 CONTENT {name: 'Dr One', npi: '1234567890', created_at: <datetime> '2026-01-02T03:04:05.123456Z'};
		CREATE user:u1 CONTENT {email: 'a@example.org', name: 'Admin', role: 'admin', password_hash: 'x', last_login_at: time::now()};
		FOR $i IN 1..=30 {
			CREATE type::record('patient', 'p' + <string> $i) CONTENT {
				mrn: 'MRN' + <string> $i, first_name: 'Ann', last_name: 'Lee' + <string> $i, date_of_birth: '1980-01-02',
				sex: 'female', address: {city: 'Springfield', line1: '1 Main St'}, tags: ['a', 'b'], status: 'active', version: 1, created_at: time::now(), updated_at: time::now(),
				identifiers: [{system: 'mrn', value: 'X' + <string> $i, type: 'MR'}]
			};
		};
		CREATE session:s1 CONTENT {kind: 'login', token_hash: 'h', user_id: 'u1', csrf_token: 'c', created_at: time::now(), last_seen_at: time::now(), expires_at: time::now() + 1h};`, nil))
	log := audit.New(db, audit.Options{Keys: keys})
	actx := actor.System(ctx)
	for i := range n {
		require.NoError(t, log.Record(actx, audit.Event{Action: "patient.read", Resource: "patient", Record: fmt.Sprintf("patient:p%d", i%30+1), Outcome: audit.OutcomeSuccess}))
	}
	require.NoError(t, log.Close(ctx))
	return keyFile
}

func TestExportRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := storetest.New(t)
	keyFile := seed(t, src, 1203)

	cases := []struct {
		name string
		key  []byte
	}{
		{"plain", nil},
		{"encrypted", bytes.Repeat([]byte{7}, backup.KeySize)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			m, err := backup.Export(ctx, src, &buf, backup.ExportOptions{Key: tc.key, Version: "test", KeyFiles: []backup.KeyFileSource{{Name: "audit.key", Path: keyFile}}})
			require.NoError(t, err)
			assert.Equal(t, 30, m.Tables["patient"].Count)
			assert.Equal(t, 1203, m.Tables["audit"].Count)
			assert.EqualValues(t, 1203, m.AuditHead.Seq)
			assert.NotContains(t, m.Tables, "session", "sessions are not backed up")
			assert.Contains(t, m.Skipped, "session")
			assert.NotContains(t, buf.String(), "Springfield", "the content is compressed (and, with a key, sealed), not readable")
			require.Len(t, m.KeyFiles, 1)
			assert.Equal(t, tc.key != nil, m.KeyFiles[0].Included)

			path := filepath.Join(t.TempDir(), "b.pfbak")
			require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
			inspected, err := backup.Inspect(path)
			require.NoError(t, err)
			assert.Equal(t, m.Content, inspected.Content)

			dst := storetest.New(t)
			target := filepath.Join(t.TempDir(), "keys", "audit.key")
			if tc.key == nil {
				require.NoError(t, os.MkdirAll(filepath.Dir(target), 0o700))
				data, err := os.ReadFile(keyFile)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(target, data, 0o600))
			}
			_, err = backup.Restore(ctx, dst, path, backup.RestoreOptions{Key: tc.key, KeyFiles: []backup.KeyFileSource{{Name: "audit.key", Path: target}}})
			require.NoError(t, err)

			got, head, err := backup.Digests(ctx, dst, 0)
			require.NoError(t, err)
			assert.Equal(t, m.Tables, got, "every table's count and content hash survive the round trip")
			assert.Equal(t, m.AuditHead, head)

			keys, err := audit.LoadKeyring(target)
			require.NoError(t, err)
			rep, err := audit.New(dst, audit.Options{Keys: keys}).Verify(actor.System(ctx))
			require.NoError(t, err)
			assert.True(t, rep.OK, rep.String())
			assert.EqualValues(t, 1203, rep.Count)
		})
	}
	_ = time.Second
}
