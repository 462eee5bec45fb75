package backup_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestProbeRestoreSpeed(t *testing.T) {
	if os.Getenv("OPS_PROBE") == "" {
		t.Skip()
	}
	ctx := context.Background()
	src := storetest.New(t)
	keyFile := seed(t, src, 5000)
	var buf bytes.Buffer
	_, err := backup.Export(ctx, src, &buf, backup.ExportOptions{})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "b.pfbak")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	for _, drop := range []bool{false, true} {
		dst := storetest.New(t)
		if drop {
			require.NoError(t, dst.Exec(ctx, "REMOVE INDEX audit_seq ON audit; REMOVE INDEX audit_actor ON audit; REMOVE INDEX audit_record ON audit; REMOVE INDEX audit_action ON audit;", nil))
		}
		t0 := time.Now()
		_, err = backup.Restore(ctx, dst, path, backup.RestoreOptions{KeyFiles: []backup.KeyFileSource{{Name: "audit.key", Path: keyFile}}})
		require.NoError(t, err)
		t1 := time.Now()
		if drop {
			require.NoError(t, dst.ApplySchema(ctx))
		}
		t.Logf("drop indexes %v: restore %v, reindex %v", drop, t1.Sub(t0), time.Since(t1))
	}
}
