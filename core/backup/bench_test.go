package backup_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// BenchmarkBackupAndRestore backs up and restores a database of 1,000
// patients and an audit trail of 20,000 events (about two months of a
// practice at 500 updates a day and their reads), and reports records per
// second each way:
//
//	go test ./core/backup -run '^$' -bench BackupAndRestore -benchtime 3x
func BenchmarkBackupAndRestore(b *testing.B) {
	ctx := context.Background()
	src := storetest.New(b)
	require.NoError(b, src.Exec(ctx, `FOR $i IN 1..=1000 {
		CREATE type::record('patient', 'p' + <string> $i) CONTENT {
			mrn: 'MRN' + <string> $i, first_name: 'Ann', last_name: 'Lee', date_of_birth: '1980-01-02', sex: 'female',
			address: {city: 'Springfield', line1: '1 Main St'}, tags: ['a'], status: 'active', version: 1,
			created_at: time::now(), updated_at: time::now()
		};
	};`, nil))
	keyFile := filepath.Join(b.TempDir(), "audit.key")
	keys, err := audit.LoadKeyring(keyFile)
	require.NoError(b, err)
	log := audit.New(src, audit.Options{Keys: keys})
	sys := actor.System(ctx)
	errs := make(chan error, 64)
	for i := range 20000 {
		go func() {
			errs <- log.Record(sys, audit.Event{Action: "patient.read", Resource: "patient", Record: fmt.Sprintf("patient:p%d", i%1000+1), Outcome: audit.OutcomeSuccess})
		}()
		if i >= 63 {
			require.NoError(b, <-errs)
		}
	}
	for range 63 {
		require.NoError(b, <-errs)
	}
	require.NoError(b, log.Close(ctx))
	path := filepath.Join(b.TempDir(), "bench.pfbak")
	kf := []backup.KeyFileSource{{Name: "audit.key", Path: keyFile}}

	b.ResetTimer()
	records := 0
	var exportTook, restoreTook time.Duration
	for range b.N {
		t0 := time.Now()
		f, err := os.Create(path)
		require.NoError(b, err)
		m, err := backup.Export(ctx, src, f, backup.ExportOptions{KeyFiles: kf, Key: make([]byte, backup.KeySize)})
		require.NoError(b, err)
		require.NoError(b, f.Close())
		exportTook += time.Since(t0)
		records = 0
		for _, d := range m.Tables {
			records += d.Count
		}
		b.StopTimer()
		dst := storetest.New(b)
		b.StartTimer()
		t0 = time.Now()
		_, err = backup.Restore(ctx, dst, path, backup.RestoreOptions{Key: make([]byte, backup.KeySize), KeyFiles: []backup.KeyFileSource{{Name: "audit.key", Path: filepath.Join(b.TempDir(), "audit.key")}}})
		require.NoError(b, err)
		restoreTook += time.Since(t0)
	}
	b.ReportMetric(float64(records*b.N)/exportTook.Seconds(), "backup-records/s")
	b.ReportMetric(float64(records*b.N)/restoreTook.Seconds(), "restore-records/s")
	fi, err := os.Stat(path)
	require.NoError(b, err)
	b.ReportMetric(float64(fi.Size()), "file-bytes")
	b.ReportMetric(float64(records), "records")
}
