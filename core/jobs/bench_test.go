package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// Benchmarks print figures for docs/jobs.md; nothing is asserted.
//
//	go test -run '^$' -bench . -benchtime 2000x ./core/jobs/

// BenchmarkEnqueue stores b.N jobs from 8 goroutines.
func BenchmarkEnqueue(b *testing.B) {
	db := storetest.New(b)
	ctx := context.Background()
	b.SetParallelism(4) // 4 × GOMAXPROCS goroutines
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := jobs.Enqueue(ctx, db, "bench.noop", map[string]string{"record": "patient/p_1"}, jobs.EnqueueOptions{}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}

// BenchmarkClaimAndRun stores b.N no-op jobs, then two instances with
// four workers each run them all: claim, run and record throughput. The
// batch is the most jobs one claim takes: as many as the workers (each
// claim fills the free workers only), or 16 (claimed ahead of them).
func BenchmarkClaimAndRun(b *testing.B) {
	for _, batch := range []int{4, 16} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchClaimAndRun(b, batch) })
	}
}

func benchClaimAndRun(b *testing.B, batch int) {
	db := storetest.New(b)
	ctx := context.Background()
	for i := 0; i < b.N; i += 500 {
		require.NoError(b, db.Exec(ctx, `FOR $i IN $from..$to { CREATE job CONTENT {kind: 'bench.noop', args: '{}',
			state: 'queued', run_at: time::now(), created_at: time::now(), updated_at: time::now()} }`,
			map[string]any{"from": i, "to": min(i+500, b.N)}))
	}
	var wg sync.WaitGroup
	wg.Add(b.N)
	h := jobs.HandlerFunc(func(context.Context, jobs.Job) error { wg.Done(); return nil })
	b.ResetTimer()
	start := time.Now()
	var qs []*jobs.Queue
	for _, name := range []string{"a", "b"} {
		q := jobs.New(db, jobs.Options{Instance: name, Workers: 4, Batch: batch, PollInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(b, q.Register("bench.noop", h))
		require.NoError(b, q.Start(ctx))
		qs = append(qs, q)
	}
	wg.Wait()
	ran := time.Since(start)
	b.StopTimer()
	// Wait for the last outcomes to be written, then stop.
	for _, q := range qs {
		_ = q.Stop(ctx)
	}
	b.ReportMetric(float64(b.N)/ran.Seconds(), "jobs/s")
}

// BenchmarkEnqueueToStart enqueues one job at a time on an idle queue
// and measures how long until its handler starts: on the instance that
// enqueued (woken at once) and on another instance (found by its poll,
// 1s by default, 100ms here).
func BenchmarkEnqueueToStart(b *testing.B) {
	for _, tc := range []struct {
		name   string
		remote bool
	}{{"same-instance", false}, {"other-instance", true}} {
		b.Run(tc.name, func(b *testing.B) {
			db := storetest.New(b)
			ctx := context.Background()
			started := make(chan time.Time, 1)
			worker := jobs.New(db, jobs.Options{Instance: "w", Workers: 4, PollInterval: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
			require.NoError(b, worker.Register("bench.latency", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
				started <- time.Now()
				return nil
			})))
			require.NoError(b, worker.Start(ctx))
			defer func() { _ = worker.Stop(ctx) }()
			producer := worker
			if tc.remote {
				producer = jobs.New(db, jobs.Options{Instance: "p", Logger: slog.New(slog.DiscardHandler)})
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := producer.Enqueue(ctx, "bench.latency", nil, jobs.EnqueueOptions{}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, (<-started).Sub(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
