package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// Generation is a change generation every instance reads the same: a
// counter row in the database (table change_gen, record id = its name)
// raised after each committed write of its source. Cached figures are
// keyed by it, so a write on any instance makes every instance's entry
// stale at once, and an unchanged source keeps one entry for all.
//
// The instance that writes raises the counter before its write returns
// (Bump waits), so it reads its own write: its next Fetch misses and
// computes from a directory that holds the write. Concurrent Bumps on
// one instance share one database write.
//
// A Generation is safe for concurrent use.
type Generation struct {
	db   *store.DB
	id   any
	name string

	mu      sync.Mutex
	running bool
	waiting []chan error
}

// NewGeneration returns the generation called name ("patients").
func NewGeneration(db *store.DB, name string) *Generation {
	return &Generation{db: db, name: name, id: store.RecordID("change_gen", name)}
}

// Current returns the generation (0 before the first change).
func (g *Generation) Current(ctx context.Context) (int64, error) {
	rows, err := store.Query[[]struct {
		N int64 `json:"n"`
	}](ctx, g.db, `SELECT n FROM $id`, map[string]any{"id": g.id})
	if err != nil {
		return 0, fmt.Errorf("read change generation %s: %w", g.name, err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return rows[0].N, nil
}

// Bump raises the generation once more after a committed change and
// returns when a raise that started after the call has been written.
func (g *Generation) Bump(ctx context.Context) error {
	done := make(chan error, 1)
	g.mu.Lock()
	g.waiting = append(g.waiting, done)
	if !g.running {
		g.running = true
		go g.bumpLoop()
	}
	g.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("raise change generation %s: %w", g.name, ctx.Err())
	}
}

// bumpLoop writes one raise for every group of callers that arrived
// while the previous one was written.
func (g *Generation) bumpLoop() {
	for {
		g.mu.Lock()
		waiting := g.waiting
		g.waiting = nil
		if len(waiting) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := g.raise(ctx)
		cancel()
		for _, w := range waiting {
			w <- err
		}
	}
}

// raise adds one to the counter (UPDATE, else CREATE: UPSERT does not
// see the stored value in SurrealDB 3.0), retrying lost races with
// other instances.
func (g *Generation) raise(ctx context.Context) error {
	const q = `
		LET $r = UPDATE $id SET n += 1, updated_at = time::now() RETURN AFTER;
		IF array::len($r) = 0 { CREATE $id SET n = 1, updated_at = time::now() };`
	var err error
	for attempt := range 50 {
		err = g.db.Exec(ctx, q, map[string]any{"id": g.id})
		if err == nil || (!errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrTxConflict)) {
			break
		}
		select {
		case <-time.After(time.Duration(attempt+1) * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("raise change generation %s: %w", g.name, ctx.Err())
		}
	}
	if err != nil {
		return fmt.Errorf("raise change generation %s: %w", g.name, err)
	}
	return nil
}
