package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/cache"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

type stats struct {
	Active int `json:"active"`
	Total  int `json:"total"`
}

func quiet(name string) cache.Options {
	return cache.Options{Instance: name, Logger: slog.New(slog.DiscardHandler), PollEvery: 5 * time.Millisecond}
}

// counter is a computation that counts how often it ran.
type counter struct {
	n    atomic.Int32
	slow time.Duration
}

func (c *counter) compute(ctx context.Context) (stats, error) {
	n := int(c.n.Add(1))
	time.Sleep(c.slow)
	return stats{Active: 10 * n, Total: 100 * n}, nil
}

// Two instances on one database, many concurrent callers on each: the
// figure is computed once, and every caller on both sees that value.
func TestComputedOnceAcrossTwoInstances(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	a, b := cache.New(db, quiet("a")), cache.New(db, quiet("b"))
	c := &counter{slow: 100 * time.Millisecond}
	var wg sync.WaitGroup
	results := make(chan stats, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst := a
			if i%2 == 1 {
				inst = b
			}
			v, err := cache.Fetch(ctx, inst, "patients.stats:v1", 7, time.Minute, c.compute)
			if assert.NoError(t, err) {
				results <- v
			}
		}()
	}
	wg.Wait()
	close(results)
	assert.Equal(t, int32(1), c.n.Load(), "computed once across both instances")
	for v := range results {
		assert.Equal(t, stats{Active: 10, Total: 100}, v)
	}
	// A third instance started later reads the shared entry.
	v, err := cache.Fetch(ctx, cache.New(db, quiet("c")), "patients.stats:v1", 7, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, stats{Active: 10, Total: 100}, v)
	assert.Equal(t, int32(1), c.n.Load())
}

// A newer change generation misses and recomputes, on both instances.
func TestNewGenerationRecomputes(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	a, b := cache.New(db, quiet("a")), cache.New(db, quiet("b"))
	c := &counter{}
	v, err := cache.Fetch(ctx, a, "patients.stats:v1", 1, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, 10, v.Active)
	v, err = cache.Fetch(ctx, b, "patients.stats:v1", 2, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, 20, v.Active, "generation 2 is a miss")
	v, err = cache.Fetch(ctx, a, "patients.stats:v1", 2, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, 20, v.Active, "instance a sees b's generation-2 value")
	assert.Equal(t, int32(2), c.n.Load())
}

// An entry past its expiry is computed again.
func TestEntriesExpire(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	a, b := cache.New(db, quiet("a")), cache.New(db, quiet("b"))
	c := &counter{}
	_, err := cache.Fetch(ctx, a, "chat.vocabulary", 0, 100*time.Millisecond, c.compute)
	require.NoError(t, err)
	_, err = cache.Fetch(ctx, b, "chat.vocabulary", 0, 100*time.Millisecond, c.compute)
	require.NoError(t, err)
	assert.Equal(t, int32(1), c.n.Load())
	time.Sleep(250 * time.Millisecond)
	v, err := cache.Fetch(ctx, b, "chat.vocabulary", 0, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, 20, v.Active)
	assert.Equal(t, int32(2), c.n.Load())

	n, err := a.Purge(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "the live entry is kept")
}

// Invalidating a key removes it everywhere: the other instance computes
// afresh once its in-process copy is older than LocalTTL.
func TestInvalidateByKey(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	oa, ob := quiet("a"), quiet("b")
	ob.LocalTTL = 50 * time.Millisecond
	a, b := cache.New(db, oa), cache.New(db, ob)
	c := &counter{}
	_, err := cache.Fetch(ctx, b, "patients.stats:v1", 0, time.Minute, c.compute)
	require.NoError(t, err)
	require.NoError(t, a.Invalidate(ctx, "patients.stats:v1"))
	time.Sleep(100 * time.Millisecond)
	v, err := cache.Fetch(ctx, b, "patients.stats:v1", 0, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, 20, v.Active)
	assert.Equal(t, int32(2), c.n.Load())
}

// A failed computation is not cached, releases the lock at once (the
// next caller computes without waiting for it to expire), and its error
// reaches the caller.
func TestFailedComputationIsNotCached(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	o := quiet("a")
	o.LockFor = time.Hour
	a, b := cache.New(db, o), cache.New(db, quiet("b"))
	boom := errors.New("boom")
	_, err := cache.Fetch(ctx, a, "patients.stats:v1", 0, time.Minute, func(context.Context) (stats, error) { return stats{}, boom })
	assert.ErrorIs(t, err, boom)
	c := &counter{}
	v, err := cache.Fetch(ctx, b, "patients.stats:v1", 0, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, 10, v.Active)
}

// Keys that could carry a patient's name or e-mail are refused.
func TestKeysNameFiguresNotPatients(t *testing.T) {
	db := storetest.New(t)
	a := cache.New(db, quiet("a"))
	c := &counter{}
	for _, key := range []string{"Jane Doe", "stats:jane.doe@example.org", "", "UPPER"} {
		_, err := cache.Fetch(context.Background(), a, key, 0, time.Minute, c.compute)
		assert.ErrorIs(t, err, fault.ErrInvalid, key)
		assert.ErrorIs(t, a.Invalidate(context.Background(), key), cache.ErrBadKey, key)
	}
	assert.Equal(t, int32(0), c.n.Load())
}

// With the database unreachable the value is computed locally and kept
// in process (bounded by MaxLocal, oldest dropped first).
func TestDatabaseDownComputesLocally(t *testing.T) {
	cfg := storetest.Config(t)
	db, err := store.Open(context.Background(), cfg)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	ctx := context.Background()
	o := quiet("a")
	o.MaxLocal = 2
	a := cache.New(db, o)
	c := &counter{}
	v, err := cache.Fetch(ctx, a, "k1", 0, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, 10, v.Active)
	_, err = cache.Fetch(ctx, a, "k1", 0, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, int32(1), c.n.Load(), "kept in process")
	_, err = cache.Fetch(ctx, a, "k2", 0, time.Minute, c.compute)
	require.NoError(t, err)
	_, err = cache.Fetch(ctx, a, "k3", 0, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, int32(3), c.n.Load())
	_, err = cache.Fetch(ctx, a, "k1", 0, time.Minute, c.compute)
	require.NoError(t, err)
	assert.Equal(t, int32(4), c.n.Load(), "the oldest entry was dropped beyond MaxLocal")
}

// An instance that took the compute lock and never delivered (it died)
// holds the others up only until the lock expires; then one of them
// computes.
func TestStaleLockIsTakenOver(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	oa := quiet("a")
	oa.LockFor = 300 * time.Millisecond
	a, b := cache.New(db, oa), cache.New(db, quiet("b"))
	hung := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_, _ = cache.Fetch(ctx, a, "patients.stats:v1", 0, time.Minute, func(context.Context) (stats, error) {
			close(started)
			<-hung
			return stats{}, errors.New("gave up")
		})
	}()
	<-started
	c := &counter{}
	v, err := cache.Fetch(ctx, b, "patients.stats:v1", 0, time.Minute, c.compute)
	close(hung)
	require.NoError(t, err)
	assert.Equal(t, 10, v.Active)
	assert.Equal(t, int32(1), c.n.Load())
}
