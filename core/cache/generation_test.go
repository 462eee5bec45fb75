package cache_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/cache"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// A generation is one number for every instance: a Bump on one is seen
// by the other as soon as it returns, concurrent Bumps share writes, and
// each Bump is covered by a raise that started after it.
func TestGenerationIsSharedAndReadsItsOwnWrites(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	a, b := cache.NewGeneration(db, "patients"), cache.NewGeneration(db, "patients")
	other := cache.NewGeneration(db, "providers")

	g, err := a.Current(ctx)
	require.NoError(t, err)
	assert.Zero(t, g, "no change yet")

	require.NoError(t, a.Bump(ctx))
	g, err = b.Current(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), g, "the other instance sees the raise")

	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen := a
			if i%2 == 1 {
				gen = b
			}
			before, err := gen.Current(ctx)
			if !assert.NoError(t, err) {
				return
			}
			if assert.NoError(t, gen.Bump(ctx)) {
				after, err := gen.Current(ctx)
				assert.NoError(t, err)
				assert.Greater(t, after, before, "a Bump returns after a raise that covers it")
			}
		}()
	}
	wg.Wait()
	g, err = a.Current(ctx)
	require.NoError(t, err)
	assert.True(t, g > 1 && g <= 41, "between one raise and one per Bump: %d", g)

	g, err = other.Current(ctx)
	require.NoError(t, err)
	assert.Zero(t, g, "generations are kept by name")

	done, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, a.Bump(done), context.Canceled)
}

// With the database closed, Bump and Current fail and say what failed.
func TestGenerationWithoutDatabase(t *testing.T) {
	db := storetest.New(t)
	require.NoError(t, db.Close())
	g := cache.NewGeneration(db, "patients")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := g.Current(ctx)
	assert.ErrorContains(t, err, "read change generation patients")
	assert.ErrorContains(t, g.Bump(ctx), "raise change generation patients")
}
