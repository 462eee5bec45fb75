package chat_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// TestLatencyConcurrent measures data questions at 10,000 patients from
// 50 concurrent clients through the WASM plugins, with the real audit
// log (every directory read and every question audited in SurrealDB) and
// the real history writes: the assistant's own cost without HTTP. make
// eval-chat prints it; it asserts nothing about time (docs/performance.md
// records the figures).
func TestLatencyConcurrent(t *testing.T) {
	if !*evalVerbose {
		t.Skip("run with -eval (make eval-chat)")
	}
	ctx := context.Background()
	cfg := storetest.Config(t)
	db := open(t, cfg)
	t.Cleanup(func() { _ = db.Exec(context.Background(), "REMOVE DATABASE IF EXISTS "+cfg.Database, nil) })
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	ps, err := patient.New(ctx, db, log, patient.WithClock(fixedNow), patient.WithLocation(time.UTC), patient.WithoutLive())
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	sctx, cancel := context.WithTimeout(system(ctx), 10*time.Minute)
	require.NoError(t, patient.Seed(sctx, ps, 10_000, 42))
	cancel()
	e := &env{db: db, patients: ps}
	reg := wasmRegistry(t, e)
	svc, err := chat.New(ctx, chat.Deps{DB: db, Patients: ps, Intents: reg, Knowledge: reg, Audit: log, Now: time.Now, Location: time.UTC}, chat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })

	msgs := []string{"show me all active patients", "how many churned this month?", "find patients with upcoming birthdays", "patients with no phone"}
	const clients, perClient = 50, 20
	staff := func(i int) context.Context {
		return actor.With(ctx, actor.Actor{UserID: fmt.Sprintf("u_staff%d", i), Role: actor.RoleStaff})
	}
	// No warm-up: the first questions arrive together, as in make bench
	// (the old vocabulary snapshot was built by each of them).
	var (
		mu   sync.Mutex
		lat  []time.Duration
		errs atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				t0 := time.Now()
				if _, err := svc.Ask(staff(c), chat.Request{Message: msgs[(c+i)%len(msgs)], Context: chat.PageContext{Page: "patients"}}); err != nil {
					errs.Add(1)
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	require.Zero(t, errs.Load())
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("chat latency, data questions, 10,000 patients, %d concurrent clients, WASM plugins, real audit and history: n=%d %.0f/s p50=%v p95=%v p99=%v max=%v (target p99 <= 50ms)\n",
		clients, len(lat), float64(len(lat))/wall.Seconds(), q(0.50).Round(time.Microsecond), q(0.95).Round(time.Microsecond),
		q(0.99).Round(time.Microsecond), slices.Max(lat).Round(time.Microsecond))
}
