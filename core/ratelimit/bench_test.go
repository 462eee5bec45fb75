package ratelimit_test

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/pfinni/pfinni/core/ratelimit"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// BenchmarkAllow prints the limiter's overhead per request on the local
// path (a share in hand; reservations run in the background) with the
// p50 and p99 of single decisions, for one busy client and for many
// clients. Target: p99 < 50µs. Nothing is asserted.
func BenchmarkAllow(b *testing.B) {
	db := storetest.New(b)
	for _, clients := range []int{1, 1000} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			l := ratelimit.New(db, ratelimit.Options{Limit: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
			defer l.Close()
			keys := make([]string, clients)
			for i := range keys {
				keys[i] = fmt.Sprintf("ip:10.0.%d.%d", i/256, i%256)
				l.Allow(keys[i]) // the first share
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				l.Allow(keys[i%clients])
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
		})
	}
}
