package patient

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"
	"github.com/surrealdb/surrealdb.go/surrealcbor"

	"github.com/pfinni/pfinni/core/store"
)

// load reads every provider, patient and recent status change into a new
// state.
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
	all, err := s.loadPatients(ctx)
	if err != nil {
		return nil, err
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

// safeKey matches the record keys pfinni generates; only such keys are
// written into a range query's text.
var safeKey = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// loadWorkers is how many range SELECTs of the load run at once: the
// engine serves them on both cores and the client decodes them in
// parallel (about twice as fast as one after the other, measured).
const loadWorkers = 4

// loadPatients reads every patient. It lists the record keys (small),
// splits them into ranges of pageSize and loads the ranges in parallel
// (record-range scans, `patient:⟨a⟩..=⟨b⟩`). Keys of another shape fall
// back to paging one after the other.
func (s *Service) loadPatients(ctx context.Context) ([]*Patient, error) {
	keys, err := store.Query[[]string](ctx, s.db, "SELECT VALUE record::id(id) FROM patient", nil)
	if err != nil {
		return nil, fmt.Errorf("load patients: %w", err)
	}
	slices.Sort(keys)
	if !slices.ContainsFunc(keys, func(k string) bool { return !safeKey.MatchString(k) }) {
		var ranges []string
		for lo := 0; lo < len(keys); lo += s.opt.pageSize {
			hi := min(lo+s.opt.pageSize, len(keys)) - 1
			r := fmt.Sprintf("patient:⟨%s⟩..=⟨%s⟩", keys[lo], keys[hi])
			if hi == len(keys)-1 {
				r = fmt.Sprintf("patient:⟨%s⟩..", keys[lo]) // and whatever was added since
			}
			ranges = append(ranges, r)
		}
		pages := make([][]Patient, len(ranges))
		errs := make([]error, len(ranges))
		sem := make(chan struct{}, loadWorkers)
		var wg sync.WaitGroup
		for i, r := range ranges {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				pages[i], errs[i] = store.Query[[]Patient](ctx, s.db, "SELECT *, record::id(id) AS id FROM "+r, nil)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("load patients: %w", err)
		}
		all := make([]*Patient, 0, len(keys))
		for _, page := range pages {
			for i := range page {
				page[i].normalize()
				all = append(all, &page[i])
			}
		}
		return all, nil
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
			page[i].normalize()
			all = append(all, &page[i])
		}
		if len(page) < s.opt.pageSize {
			return all, nil
		}
		after = page[len(page)-1].ID
	}
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
