package patient

import (
	"context"
	"fmt"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"
	"github.com/surrealdb/surrealdb.go/surrealcbor"

	"github.com/pfinni/pfinni/core/store"
)

// load reads every provider, patient and recent status change into a new
// state. Patients come in pages of pageSize, walking the record ids in
// order (each page starts after the last id of the one before).
func (s *Service) load(ctx context.Context) (*state, error) {
	st := newState()
	provs, err := store.Query[[]Provider](ctx, s.db, "SELECT *, record::id(id) AS id FROM provider", nil)
	if err != nil {
		return nil, fmt.Errorf("load providers: %w", err)
	}
	for i := range provs {
		p := provs[i]
		st.providers[p.ID] = &p
	}
	var all []*Patient
	after := ""
	for {
		page, err := store.Query[[]Patient](ctx, s.db,
			"SELECT *, record::id(id) AS id FROM patient WHERE id > $after ORDER BY id LIMIT $n",
			map[string]any{"after": store.RecordID("patient", after), "n": s.opt.pageSize})
		if err != nil {
			return nil, fmt.Errorf("load patients: %w", err)
		}
		for i := range page {
			p := &page[i]
			p.normalize()
			all = append(all, p)
		}
		if len(page) < s.opt.pageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	st.bulkLoad(all)
	since := s.opt.now().Add(-transitionWindow)
	changes, err := store.Query[[]StatusChange](ctx, s.db,
		"SELECT patient_id, from, to, at FROM status_change WHERE at >= $since AND from != '' ORDER BY at",
		map[string]any{"since": dbTime(since)})
	if err != nil {
		return nil, fmt.Errorf("load status changes: %w", err)
	}
	st.transitions = changes
	return st, nil
}

// subscribe starts the live queries that bring other instances' writes.
// A change this instance made itself arrives too and is ignored by
// version; after a reconnect the directory is reloaded.
func (s *Service) subscribe(ctx context.Context) error {
	resync := func(rctx context.Context) {
		_ = s.Reload(rctx)
	}
	if err := s.db.Live(ctx, "patient", s.onPatient, resync); err != nil {
		return err
	}
	if err := s.db.Live(ctx, "provider", s.onProvider, nil); err != nil {
		return err
	}
	return s.db.Live(ctx, "status_change", s.onStatusChange, nil)
}

func (s *Service) onPatient(c store.Change) {
	if c.Action == "DELETE" {
		var p struct {
			ID string `json:"id"`
		}
		if err := decodeChange(c, &p); err != nil || p.ID == "" {
			s.opt.log.Warn("live patient change not understood", "action", c.Action)
			return
		}
		s.dir.remove(p.ID)
		return
	}
	var p Patient
	if err := decodeChange(c, &p); err != nil {
		s.opt.log.Warn("live patient change not understood", "action", c.Action)
		return
	}
	s.dir.upsert(&p)
}

func (s *Service) onProvider(c store.Change) {
	if c.Action == "DELETE" {
		return // providers are not deleted through pfinni
	}
	var p Provider
	if err := decodeChange(c, &p); err != nil {
		s.opt.log.Warn("live provider change not understood", "action", c.Action)
		return
	}
	s.dir.upsertProvider(&p)
}

func (s *Service) onStatusChange(c store.Change) {
	if c.Action != "CREATE" {
		return
	}
	var sc StatusChange
	if err := decodeChange(c, &sc); err != nil || sc.From == "" {
		return
	}
	if time.Since(sc.At) < transitionWindow {
		s.dir.addTransition(sc)
	}
}

// decodeChange decodes a live change into v with the record id as its
// bare key (the directory's ids are keys, "p_…", not "patient:p_…").
func decodeChange(c store.Change, v any) error {
	var m map[string]any
	if err := c.Decode(&m); err != nil {
		return err
	}
	switch id := m["id"].(type) {
	case models.RecordID:
		m["id"] = store.Key(id)
	case *models.RecordID:
		m["id"] = store.Key(*id)
	}
	b, err := surrealcbor.Marshal(m)
	if err != nil {
		return fmt.Errorf("decode live change: %w", err)
	}
	if err := surrealcbor.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode live change: %w", err)
	}
	return nil
}
