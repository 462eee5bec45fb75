package app

import (
	"context"
	"fmt"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/store"
)

// pluginState keeps the admins' enable/disable choices in SurrealDB, so
// they survive restarts and every core instance on the database agrees.
type pluginState struct{ db *store.DB }

var _ plugin.StateStore = pluginState{}

func (s pluginState) Load(ctx context.Context) (map[string]bool, error) {
	rows, err := store.Query[[]struct {
		Name    string `json:"name"`
		Enabled bool   `json:"enabled"`
	}](ctx, s.db, "SELECT name, enabled FROM plugin_state", nil)
	if err != nil {
		return nil, fmt.Errorf("load plugin state: %w", err)
	}
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[r.Name] = r.Enabled
	}
	return out, nil
}

func (s pluginState) Save(ctx context.Context, name string, enabled bool) error {
	err := s.db.Exec(ctx, `UPSERT type::record('plugin_state', $name) CONTENT {name: $name, enabled: $enabled, updated_by: $by, updated_at: time::now()}`,
		map[string]any{"name": name, "enabled": enabled, "by": actor.From(ctx).UserID})
	if err != nil {
		return fmt.Errorf("save plugin state: %w", err)
	}
	return nil
}
