package patient

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// BenchmarkDirectoryLoad measures the start-up load of 10,000 patients
// (paged SELECTs, decoding, indexes, sorted views) and the heap the
// directory keeps per patient.
//
//	go test ./core/patient -run '^$' -bench DirectoryLoad -benchtime 3x
func BenchmarkDirectoryLoad(b *testing.B) {
	const n = 10_000
	db := storetest.New(b)
	aud := &patienttest.Auditor{}
	seeder, err := New(context.Background(), db, aud, WithoutLive())
	require.NoError(b, err)
	start := time.Now()
	require.NoError(b, Seed(actor.System(context.Background()), seeder, n, 1))
	b.ReportMetric(time.Since(start).Seconds(), "seed-s")
	_ = seeder.Close()
	seeder = nil

	var before, after runtime.MemStats
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		svc, err := New(context.Background(), db, aud, WithoutLive())
		require.NoError(b, err)
		b.StopTimer()
		require.Equal(b, n, svc.Count())
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/patient")
		runtime.KeepAlive(svc)
		_ = svc.Close()
		b.StartTimer()
	}
}
