package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// Callers whose deadline passes mid-query must not break the shared
// connection for everyone else (a write deadline left on the socket did).
func TestCallerDeadlinesLeaveConnectionUsable(t *testing.T) {
	db := storetest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := map[string]int{}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				_, err := store.Query[[]map[string]any](ctx, db, "SELECT * FROM provider LIMIT 50", nil)
				if err != nil {
					mu.Lock()
					errs[err.Error()]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	for msg := range errs {
		assert.Contains(t, msg, "query timed out", "only the callers' own timeouts")
	}
	assert.True(t, db.Ready())
	_, err := store.Query[[]map[string]any](context.Background(), db, "SELECT * FROM provider LIMIT 1", nil)
	require.NoError(t, err)
}
