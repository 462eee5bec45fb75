package audit_test

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// BenchmarkRecord50 records events from 50 concurrent callers, as 50
// concurrent requests would; it reports throughput and each call's latency
// (p50, p99), i.e. what group commit adds to a response.
func BenchmarkRecord50(b *testing.B) {
	db := storetest.New(b)
	l := newLog(b, db, audit.Options{})
	const callers = 50
	b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var mu sync.Mutex
	var lat []time.Duration
	var n atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t := time.Now()
			if err := l.Record(staff, read(fmt.Sprintf("patient:p%d", n.Add(1)))); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkVerify10k walks a chain of 10,000 events.
func BenchmarkVerify10k(b *testing.B) {
	db := storetest.New(b)
	l := newLog(b, db, audit.Options{})
	const size = 10_000
	var wg sync.WaitGroup
	for w := range 100 {
		wg.Go(func() {
			for i := range size / 100 {
				if err := l.Record(staff, read(fmt.Sprintf("patient:p%d-%d", w, i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ResetTimer()
	for b.Loop() {
		rep, err := l.Verify(system)
		require.NoError(b, err)
		require.True(b, rep.OK)
	}
	b.ReportMetric(float64(size), "events")
}
