package store

import (
	"context"
	"fmt"

	surrealdb "github.com/surrealdb/surrealdb.go"
	"github.com/surrealdb/surrealdb.go/pkg/models"
	"github.com/surrealdb/surrealdb.go/surrealcbor"
)

// Change is one live-query notification: a record created, updated or
// deleted by any client of the database (another core instance included).
type Change struct {
	Action string // CREATE | UPDATE | DELETE
	result any
}

// Decode decodes the changed record into v.
func (c Change) Decode(v any) error {
	b, err := surrealcbor.Marshal(c.result)
	if err != nil {
		return fmt.Errorf("decode live change: %w", err)
	}
	if err := surrealcbor.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode live change: %w", err)
	}
	return nil
}

// Live starts a live query on table and calls fn for every change, in
// order, until ctx ends. The subscription is renewed after a reconnect,
// and resync (if not nil) runs then, because changes made while the
// connection was down were not delivered.
func (d *DB) Live(ctx context.Context, table string, fn func(Change), resync func(ctx context.Context)) error {
	start := func(ctx context.Context) error {
		c, err := d.Conn()
		if err != nil {
			return err
		}
		id, err := surrealdb.Live(ctx, c, models.Table(table), false)
		if err != nil {
			return fmt.Errorf("live select %s: %w", table, err)
		}
		ch, err := c.LiveNotifications(id.String())
		if err != nil {
			return fmt.Errorf("live select %s: %w", table, err)
		}
		go func() {
			for {
				select {
				case <-ctx.Done():
					kctx, cancel := context.WithTimeout(context.Background(), 2e9)
					_, _ = guard(func() (struct{}, error) { return struct{}{}, surrealdb.Kill(kctx, c, id.String()) })
					cancel()
					return
				case n, ok := <-ch:
					if !ok {
						return
					}
					if n.Action == "" {
						// The transport dropped changes (consumer too slow): reload.
						if resync != nil {
							resync(ctx)
						}
						continue
					}
					fn(Change{Action: string(n.Action), result: n.Result})
				}
			}
		}()
		return nil
	}
	if err := start(ctx); err != nil {
		return err
	}
	d.OnReconnect(func(hctx context.Context) {
		if ctx.Err() != nil {
			return
		}
		if err := start(ctx); err != nil {
			d.cfg.Logger.Error("renew live query", "table", table, "err", err)
		}
		if resync != nil {
			resync(hctx)
		}
	})
	return nil
}
