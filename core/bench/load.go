// Package bench is pfinni's load and benchmark harness: it drives a real
// server over HTTP (and, side by side, SurrealDB over its RPC endpoint)
// with closed-loop (fixed concurrency) and open-loop (fixed rate) load,
// records latencies in HDR histograms, samples the CPU and memory of the
// core and database processes, and reports a table and JSON.
//
// Only cmd/pfinni (`pfinni bench`) and tests import it.
package bench

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Op is one request of a scenario; worker is the caller's index, i a
// running counter (for picking different records).
type Op func(ctx context.Context, worker int, i int64) error

// Result is what one scenario measured.
type Result struct {
	Name       string  `json:"name"`
	Mode       string  `json:"mode"` // closed:N or open:R/s
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput_per_s"`
	P50ms      float64 `json:"p50_ms"`
	P95ms      float64 `json:"p95_ms"`
	P99ms      float64 `json:"p99_ms"`
	Maxms      float64 `json:"max_ms"`
	FirstError string  `json:"first_error,omitempty"`
}

type recorder struct {
	mu       sync.Mutex
	h        *hdrhistogram.Histogram
	n, errs  atomic.Int64
	firstErr atomic.Value
}

func newRecorder() *recorder {
	// 1 µs .. 60 s, 3 significant digits.
	return &recorder{h: hdrhistogram.New(1, 60_000_000, 3)}
}

func (r *recorder) record(d time.Duration, err error) {
	r.n.Add(1)
	if err != nil {
		r.errs.Add(1)
		r.firstErr.CompareAndSwap(nil, err.Error())
	}
	r.mu.Lock()
	_ = r.h.RecordValue(d.Microseconds())
	r.mu.Unlock()
}

func (r *recorder) result(name, mode string, elapsed time.Duration) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	ms := func(q float64) float64 { return float64(r.h.ValueAtQuantile(q)) / 1000 }
	res := Result{
		Name: name, Mode: mode, Requests: r.n.Load(), Errors: r.errs.Load(), Seconds: elapsed.Seconds(),
		P50ms: ms(50), P95ms: ms(95), P99ms: ms(99), Maxms: float64(r.h.Max()) / 1000,
	}
	if elapsed > 0 {
		res.Throughput = float64(res.Requests) / elapsed.Seconds()
	}
	if e, ok := r.firstErr.Load().(string); ok {
		res.FirstError = e
	}
	return res
}

// Closed runs op from `workers` goroutines back to back for d.
func Closed(ctx context.Context, name string, workers int, d time.Duration, op Op) Result {
	rec := newRecorder()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var counter atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := counter.Add(1)
				t0 := time.Now()
				err := op(ctx, w, i)
				if ctx.Err() != nil && err != nil {
					return // cut off by the end of the run, not a failure
				}
				rec.record(time.Since(t0), err)
			}
		}()
	}
	wg.Wait()
	return rec.result(name, "closed:"+strconv.Itoa(workers), time.Since(start))
}

// Open issues op at a fixed rate for d, whatever the latency (latency is
// measured from the intended start, so queueing shows up in the numbers).
func Open(ctx context.Context, name string, rate int, d time.Duration, op Op) Result {
	rec := newRecorder()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	interval := time.Second / time.Duration(max(rate, 1))
	var wg sync.WaitGroup
	start := time.Now()
	var i int64
	for next := start; ctx.Err() == nil; next = next.Add(interval) {
		if wait := time.Until(next); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			if ctx.Err() != nil {
				break
			}
		}
		i++
		wg.Add(1)
		go func(i int64, intended time.Time) {
			defer wg.Done()
			err := op(context.WithoutCancel(ctx), 0, i)
			rec.record(time.Since(intended), err)
		}(i, next)
	}
	wg.Wait()
	return rec.result(name, "open:"+strconv.Itoa(rate)+"/s", time.Since(start))
}
