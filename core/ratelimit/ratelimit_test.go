package ratelimit_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/dbengine"
	"github.com/pfinni/pfinni/core/ratelimit"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func opts(name string, limit int) ratelimit.Options {
	// A generous Wait: these tests prove the shared counting, and must not
	// take the slow-database path on a loaded machine.
	return ratelimit.Options{Limit: limit, Instance: name, Wait: time.Minute, Logger: slog.New(slog.DiscardHandler)}
}

// hammer sends n requests of key to the limiters in turn from 8
// goroutines and returns how many were admitted and the refusals.
func hammer(lims []*ratelimit.Limiter, key string, n int) (admitted int, refused []ratelimit.Decision) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				d := lims[i%len(lims)].Allow(key)
				mu.Lock()
				if d.Allowed {
					admitted++
				} else {
					refused = append(refused, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return admitted, refused
}

// Two instances on one database admit the limit between them, not
// twice it, and say when to come back.
func TestLimitHoldsAcrossInstances(t *testing.T) {
	db := storetest.New(t)
	a, b := ratelimit.New(db, opts("a", 100)), ratelimit.New(db, opts("b", 100))
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)

	admitted, refused := hammer([]*ratelimit.Limiter{a, b}, "ip:203.0.113.7", 300)
	assert.Equal(t, 100, admitted, "the instances together admit the limit")
	require.Len(t, refused, 200)
	for _, d := range refused {
		assert.False(t, d.Local, "decided with the shared counter")
		assert.Equal(t, 100, d.Limit)
		assert.Equal(t, time.Minute, d.Window)
		assert.Zero(t, d.Remaining)
		assert.Positive(t, d.Reset)
		assert.LessOrEqual(t, d.Reset, time.Minute)
	}

	// Another client has its own budget; the rows hold no key.
	admitted, _ = hammer([]*ratelimit.Limiter{a, b}, "user:users:abc", 30)
	assert.Equal(t, 30, admitted)
	rows, err := store.Query[[]map[string]any](context.Background(), db, "SELECT * FROM rate_limit", nil)
	require.NoError(t, err)
	assert.Len(t, rows, 2)
	assert.NotContains(t, fmt.Sprint(rows), "203.0.113.7")
	assert.NotContains(t, fmt.Sprint(rows), "abc")
}

// A window ends by the database clock and the budget is whole again.
func TestWindowEndsAndBudgetReturns(t *testing.T) {
	db := storetest.New(t)
	o := opts("a", 5)
	o.Window = 10 * time.Second
	l := ratelimit.New(db, o)
	t.Cleanup(l.Close)
	for i := range 5 {
		d := l.Allow("ip:198.51.100.1")
		require.True(t, d.Allowed, "request %d", i)
		assert.Equal(t, 4-i, d.Remaining)
	}
	d := l.Allow("ip:198.51.100.1")
	require.False(t, d.Allowed)
	assert.LessOrEqual(t, d.Reset, 10*time.Second)
	require.Eventually(t, func() bool { return l.Allow("ip:198.51.100.1").Allowed }, time.Minute, 100*time.Millisecond,
		"the next window admits again")
}

// Without a database every decision is local, and a limiter alone
// keeps the limit by itself.
func TestWithoutDatabase(t *testing.T) {
	l := ratelimit.New(nil, ratelimit.Options{Limit: 3, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(l.Close)
	var got []bool
	for range 5 {
		d := l.Allow("ip:192.0.2.1")
		assert.True(t, d.Local)
		got = append(got, d.Allowed)
	}
	assert.Equal(t, []bool{true, true, true, false, false}, got)
	assert.True(t, l.Allow("ip:192.0.2.2").Allowed, "another client")
}

// The database goes away: the limiter decides locally (its share of
// what was left), never waits on the dead database, and once the
// database is back the requests admitted meanwhile are counted.
func TestDatabaseDownGoesLocal(t *testing.T) {
	if _, err := storetest.Engine(); err != nil || storetest.SharedEngine() == nil {
		t.Skip("external database: cannot kill it")
	}
	wd, _ := os.Getwd()
	dir, err := dbengine.FindHostDir(wd)
	require.NoError(t, err)
	ctx := context.Background()
	eng, err := dbengine.Start(ctx, dbengine.Config{Path: "mem://", HostDir: dir, StartTimeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Stop() })
	user, pass := eng.Credentials()
	db, err := store.Open(ctx, store.Config{URL: eng.URL, Namespace: "test", Database: "ratelimit", User: user, Password: pass,
		Logger: slog.New(slog.DiscardHandler), PingEvery: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	o := opts("a", 40)
	o.Wait = 50 * time.Millisecond
	l := ratelimit.New(db, o)
	t.Cleanup(l.Close)
	const key = "ip:203.0.113.50"
	for range 10 {
		d := l.Allow(key)
		require.True(t, d.Allowed)
		require.False(t, d.Local)
	}

	eng.Kill()
	require.Eventually(t, func() bool { return !db.Ready() }, time.Minute, 10*time.Millisecond)
	var local []ratelimit.Decision
	var slowest time.Duration
	for range 60 {
		start := time.Now()
		d := l.Allow(key)
		slowest = max(slowest, time.Since(start))
		local = append(local, d)
	}
	t.Logf("slowest decision with the database down: %s", slowest)
	admitted := 0
	for i, d := range local {
		// The first may use the one request (a chunk of 40/50) reserved
		// before the engine died.
		if i > 0 {
			assert.True(t, d.Local, "decided without the database")
		}
		if d.Allowed {
			admitted++
		}
	}
	// It had admitted 10 of 40: the rest of the limit, and not one more.
	assert.Equal(t, 30, admitted)
	assert.False(t, local[len(local)-1].Allowed)

	// Back: the supervisor restarted the (in-memory, now empty) engine.
	require.Eventually(t, func() bool { return db.Ready() }, 2*time.Minute, 50*time.Millisecond)
	require.Eventually(t, func() bool { return !l.Allow("ip:203.0.113.51").Local }, time.Minute, 50*time.Millisecond,
		"decisions are shared again")
}

// A database that answers, but later than requests may wait: the
// instances admit alone, yet each at most a chunk per window beyond the
// shared budget, and what they admitted alone is counted once it
// answers.
func TestSlowDatabaseOvershootsByAtMostAChunkPerInstance(t *testing.T) {
	db := storetest.New(t)
	slow := func(name string) *ratelimit.Limiter {
		o := opts(name, 100)
		o.Chunk = 10
		o.Wait = time.Microsecond // every reservation is "late"
		o.Backoff = time.Millisecond
		l := ratelimit.New(db, o)
		t.Cleanup(l.Close)
		return l
	}
	a, b := slow("a"), slow("b")
	admitted, refused := hammer([]*ratelimit.Limiter{a, b}, "ip:192.0.2.99", 400)
	t.Logf("%d admitted, %d refused", admitted, len(refused))
	assert.LessOrEqual(t, admitted, 100+2*10, "at most a chunk per instance beyond the limit")
	assert.GreaterOrEqual(t, admitted, 10, "requests are admitted without waiting for the database")

	// What they admitted alone reaches the shared counter without
	// further requests, so a third instance that waits for the database
	// admits only what is left.
	require.Eventually(t, func() bool {
		rows, err := store.Query[[]struct {
			Used int `json:"used"`
		}](context.Background(), db, "SELECT used FROM rate_limit", nil)
		return err == nil && len(rows) == 1 && rows[0].Used >= admitted
	}, time.Minute, 10*time.Millisecond, "the shared counter holds every request admitted")
	c := ratelimit.New(db, opts("c", 100))
	t.Cleanup(c.Close)
	more, _ := hammer([]*ratelimit.Limiter{c}, "ip:192.0.2.99", 200)
	assert.LessOrEqual(t, admitted+more, 100+2*10)
	// Shares a and b reserved after their last requests stay unused (a
	// chunk each at most).
	assert.GreaterOrEqual(t, admitted+more, 100-2*10, "the budget is used")
}
