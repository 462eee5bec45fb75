// Package pluginstate keeps the admin's plugin enable/disable choices in
// SurrealDB (table plugin_state, core/store/schema/30_plugin.surql), so
// they survive restarts and are shared by every core instance. It
// implements plugin.StateStore; core/app passes it to plugin.New.
//
// SurrealDB documentation this package follows:
//   - https://surrealdb.com/docs/surrealql/statements/upsert
//   - https://surrealdb.com/docs/surrealql/statements/select
package pluginstate

import (
	"context"
	"fmt"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/store"
)

// Store is a plugin.StateStore on SurrealDB.
type Store struct {
	db *store.DB
}

var _ plugin.StateStore = (*Store)(nil)

// New returns a Store on db.
func New(db *store.DB) *Store { return &Store{db: db} }

type row struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
}

// Load returns every saved choice by plugin name.
func (s *Store) Load(ctx context.Context) (map[string]bool, error) {
	rows, err := store.Query[[]row](ctx, s.db, "SELECT name, enabled FROM plugin_state", nil)
	if err != nil {
		return nil, fmt.Errorf("load plugin state: %w", err)
	}
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[r.Name] = r.Enabled
	}
	return out, nil
}

// Save records one choice, and who made it (the actor in ctx).
func (s *Store) Save(ctx context.Context, name string, enabled bool) error {
	err := s.db.Exec(ctx, "UPSERT $id SET name = $name, enabled = $enabled, updated_by = $by, updated_at = time::now()", map[string]any{
		"id": store.RecordID("plugin_state", name), "name": name, "enabled": enabled, "by": actor.From(ctx).UserID,
	})
	if err != nil {
		return fmt.Errorf("save plugin state %q: %w", name, err)
	}
	return nil
}
