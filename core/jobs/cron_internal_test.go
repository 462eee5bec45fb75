package jobs

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// A tick's job is created once even when the compare-and-swap on the
// schedule lets a second enqueue through (its last_tick lost, the first
// job already run and its unique key released): the job's record id is
// the tick's.
func TestTickEnqueuedOnceEvenPastTheCAS(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	q := New(db, Options{Instance: "a", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, q.Schedule("every-second", "@every 1s", "test.tick", nil))
	s := q.schedules[0]
	tick := time.Now().Truncate(time.Second)
	won, err := q.enqueueTick(ctx, s, tick)
	require.NoError(t, err)
	require.True(t, won)
	require.NoError(t, db.Exec(ctx, `UPDATE job SET state = 'succeeded', unique_key = NONE WHERE kind = 'test.tick';
		UPDATE $sid SET last_tick = NONE`, map[string]any{"sid": store.RecordID("job_schedule", "every-second")}))
	won, _ = q.enqueueTick(ctx, s, tick)
	assert.False(t, won, "the same tick again")
	n, err := store.Query[int](ctx, db, "RETURN count(SELECT id FROM job WHERE kind = 'test.tick')", nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	won, err = q.enqueueTick(ctx, s, tick.Add(time.Second))
	require.NoError(t, err)
	assert.True(t, won, "the next tick")
}
