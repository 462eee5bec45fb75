package plugin

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin/wasmhost"
	"github.com/pfinni/pfinni/sdk"
)

// latencies collects per-call durations and reports p50/p99 as metrics.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	b.ReportMetric(float64(l.d[len(l.d)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(l.d[len(l.d)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkWASMRoundTrip1KB: one intent.handle call with a 1 KB message
// through the registry (encode, pool, alloc+copy, guest JSON, decode).
func BenchmarkWASMRoundTrip1KB(b *testing.B) {
	r := start(b, Options{ManifestPath: writeManifest(b, plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}", extra: "    limits: {concurrency: 1}\n"})})
	req := sdk.IntentRequest{Message: "echo " + strings.Repeat("x", 1019)}
	ctx := staff()
	var rep sdk.IntentReply
	require.NoError(b, r.Call(ctx, "stub-echo", sdk.HookIntentHandle, req, &rep))
	require.Len(b, rep.Reply, 1019)
	var lat latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := r.Call(ctx, "stub-echo", sdk.HookIntentHandle, req, &rep); err != nil {
			b.Fatal(err)
		}
		lat.add(time.Since(t0))
	}
	lat.report(b)
}

// BenchmarkProcessRoundTrip: one eligibility check through go-plugin gRPC.
func BenchmarkProcessRoundTrip(b *testing.B) {
	r := start(b, Options{ManifestPath: writeManifest(b, plug{name: "stub-insurance", kind: "process", provides: "{insurance: true}"})})
	req := sdk.EligibilityRequest{Payer: "STUB", MemberID: "A1", FirstName: "A", LastName: "B", DateOfBirth: "1970-01-01"}
	ctx := staff()
	var lat latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := r.CheckEligibility(ctx, req); err != nil {
			b.Fatal(err)
		}
		lat.add(time.Since(t0))
	}
	lat.report(b)
}

// BenchmarkCompile: loading a module with an empty compilation cache
// (cold) and with a warm on-disk cache, as after a restart (cached).
// Each load includes instantiating one instance (runs the Go runtime
// start and pfinni_init).
func BenchmarkCompile(b *testing.B) {
	bin, err := os.ReadFile(artifacts["stub-echo"])
	require.NoError(b, err)
	ctx := context.Background()
	load := func(b *testing.B, cacheDir string) {
		e, err := wasmhost.NewEngine(wasmhost.EngineConfig{CacheDir: cacheDir})
		require.NoError(b, err)
		m, err := e.Load(ctx, wasmhost.Config{Name: "stub-echo", Wasm: bin})
		require.NoError(b, err)
		_ = m.Close(ctx)
		_ = e.Close(ctx)
	}
	b.Run("cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			load(b, "")
		}
	})
	b.Run("cached", func(b *testing.B) {
		dir := b.TempDir()
		load(b, dir) // fill the disk cache
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			load(b, dir)
		}
	})
}

// BenchmarkPoolThroughput8: 8 concurrent callers on one plugin with a
// pool of 4 warm instances; ns/op is the inverse of throughput.
func BenchmarkPoolThroughput8(b *testing.B) {
	r := start(b, Options{ManifestPath: writeManifest(b, plug{name: "stub-echo", provides: "{intents: [{name: echo.say}]}", extra: "    limits: {concurrency: 4}\n"})})
	ctx := staff()
	req := sdk.IntentRequest{Message: "echo " + strings.Repeat("y", 256)}
	for i := 0; i < 8; i++ { // warm the pool
		require.NoError(b, r.Call(ctx, "stub-echo", sdk.HookIntentHandle, req, nil))
	}
	var lat latencies
	b.ResetTimer()
	var wg sync.WaitGroup
	per := (b.N + 7) / 8
	start := time.Now()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rep sdk.IntentReply
			for i := 0; i < per; i++ {
				t0 := time.Now()
				if err := r.Call(ctx, "stub-echo", sdk.HookIntentHandle, req, &rep); err != nil {
					b.Error(err)
					return
				}
				lat.add(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.ReportMetric(float64(per*8)/el.Seconds(), "calls/s")
	lat.report(b)
}
