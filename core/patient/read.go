package patient

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// Get returns patient id from the directory.
func (s *Service) Get(ctx context.Context, id string) (*Patient, error) {
	const action = "patient.read"
	if err := s.authorize(ctx, action, "patient", id, false); err != nil {
		return nil, err
	}
	p, ok := s.open(ctx, id)
	var err error
	if !ok {
		err = s.notOpen(ctx, "get patient", id)
	}
	if err := s.finish(ctx, action, "patient", id, "", err); err != nil {
		return nil, err
	}
	return p.clone(), nil
}

// GetByMRN returns the patient with this MRN (importers match by MRN).
func (s *Service) GetByMRN(ctx context.Context, mrn string) (*Patient, error) {
	id := ""
	s.dir.read(func(st *state) {
		id = st.byMRN[mrn]
		if m := st.merged[id]; m != nil {
			id = m.MergedInto // a merged record's MRN finds the person's record
		}
	})
	if id == "" {
		if err := s.authorize(ctx, "patient.read", "patient", "", false); err != nil {
			return nil, err
		}
		return nil, s.finish(ctx, "patient.read", "patient", "", "by=mrn", fmt.Errorf("get patient by MRN: %w", ErrNotFound))
	}
	return s.Get(ctx, id)
}

// List answers a Filter from the directory: the page of matches and the
// total count of all matches.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	const action = "patient.list"
	if err := s.authorize(ctx, action, "patient", "", false); err != nil {
		return Page{}, err
	}
	page, err := s.scopedList(ctx, &f, false)
	detail := fmt.Sprintf("results=%d total=%d", len(page.Items), page.Total) + scopeDetail(f.scope)
	if err := s.finish(ctx, action, "patient", "", detail, err); err != nil {
		return Page{}, err
	}
	return page, nil
}

// Stats returns the dashboard figures, from the directory.
func (s *Service) Stats(ctx context.Context, opts ...StatsOptions) (Stats, error) {
	const action = "patient.stats"
	if err := s.authorize(ctx, action, "patient", "", false); err != nil {
		return Stats{}, err
	}
	var o StatsOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	sc, err := s.panelScope(ctx, o.Panel)
	var out Stats
	if err == nil {
		out, err = s.sharedStats(ctx, s.now(), o, sc)
	}
	if err := s.finish(ctx, action, "patient", "", strings.TrimSpace(scopeDetail(sc)), err); err != nil {
		return Stats{}, err
	}
	return out, nil
}

// statsKey identifies a Stats result: the same directory generation,
// options and minute give the same figures.
type statsKey struct {
	gen    uint64
	minute int64
	opts   StatsOptions
	scope  scope
}

// cachedStats computes Stats once per directory change and minute: the
// dashboard asks on every page view, and over 10,000 patients a
// computation costs milliseconds of CPU.
func (s *Service) cachedStats(now time.Time, o StatsOptions, sc scope) Stats {
	var out Stats
	s.dir.readGen(func(st *state, gen uint64) {
		k := statsKey{gen: gen, minute: now.Unix() / 60, opts: o, scope: sc}
		s.statsMu.Lock()
		c, ok := s.statsCache[k]
		s.statsMu.Unlock()
		if ok {
			out = c
			return
		}
		out = st.stats(now, o, sc)
		s.statsMu.Lock()
		if len(s.statsCache) > 16 {
			clear(s.statsCache)
		}
		s.statsCache[k] = out
		s.statsMu.Unlock()
	})
	return out
}

// History returns patient id's status transitions and record changes,
// newest first (kept after a delete, so admins can still see them).
func (s *Service) History(ctx context.Context, id string) (History, error) {
	const action = "patient.history"
	if err := s.authorize(ctx, action, "patient", id, false); err != nil {
		return History{}, err
	}
	h, err := s.history(ctx, id)
	if err := s.finish(ctx, action, "patient", id, "", err); err != nil {
		return History{}, err
	}
	return h, nil
}

func (s *Service) history(ctx context.Context, id string) (History, error) {
	if sc := s.recordScope(ctx); sc.restricted {
		if _, ok := s.open(ctx, id); !ok {
			return History{}, fmt.Errorf("patient history: %w", ErrNotFound)
		}
	}
	vars := map[string]any{"id": id}
	sc, err := store.Query[[]StatusChange](ctx, s.db,
		"SELECT patient_id, from, to, reason, actor, at FROM status_change WHERE patient_id = $id ORDER BY at DESC", vars)
	if err != nil {
		return History{}, fmt.Errorf("patient history: %w", err)
	}
	ch, err := store.Query[[]Change](ctx, s.db,
		"SELECT patient_id, version, action, fields, actor, source, at FROM patient_history WHERE patient_id = $id ORDER BY at DESC, version DESC", vars)
	if err != nil {
		return History{}, fmt.Errorf("patient history: %w", err)
	}
	if _, ok := s.current(id); !ok && len(sc) == 0 && len(ch) == 0 {
		return History{}, fmt.Errorf("patient history: %w", ErrNotFound)
	}
	if sc == nil {
		sc = []StatusChange{}
	}
	if ch == nil {
		ch = []Change{}
	}
	for i := range ch {
		if ch[i].Fields == nil {
			ch[i].Fields = []string{}
		}
	}
	return History{StatusChanges: sc, Changes: ch}, nil
}

// ListProviders returns every provider by name.
func (s *Service) ListProviders(ctx context.Context) ([]Provider, error) {
	if err := s.authorize(ctx, "provider.list", "provider", "", false); err != nil {
		return nil, err
	}
	var out []Provider
	s.dir.read(func(st *state) {
		out = make([]Provider, 0, len(st.providers))
		for _, p := range st.providers {
			out = append(out, *p)
		}
	})
	slices.SortFunc(out, func(a, b Provider) int {
		if c := strings.Compare(fold(a.Name), fold(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// GetProvider returns provider id.
func (s *Service) GetProvider(ctx context.Context, id string) (Provider, error) {
	if err := s.authorize(ctx, "provider.read", "provider", id, false); err != nil {
		return Provider{}, err
	}
	var p *Provider
	s.dir.read(func(st *state) { p = st.providers[id] })
	if p == nil {
		return Provider{}, fmt.Errorf("get provider: %w", ErrProviderNotFound)
	}
	return *p, nil
}

// CreateProvider stores a new provider.
func (s *Service) CreateProvider(ctx context.Context, in ProviderInput) (Provider, error) {
	const action = "provider.create"
	if err := s.authorizeStaffWork(ctx, action, "provider", "", ErrProviderUpkeep); err != nil {
		return Provider{}, err
	}
	now := s.opt.now().UTC()
	p := Provider{ID: newID("pr_"), Name: strings.TrimSpace(in.Name), NPI: in.NPI, Specialty: in.Specialty, Phone: in.Phone,
		Email: in.Email, Organization: in.Organization, CreatedAt: now, UpdatedAt: now}
	err := validateProvider(p)
	if err == nil {
		err = s.db.Exec(ctx, "CREATE $rid CONTENT $p RETURN NONE", map[string]any{"rid": store.RecordID("provider", p.ID), "p": p.doc()})
		if err != nil {
			err = fmt.Errorf("create provider: %w", err)
		} else {
			s.dir.upsertProvider(&p)
		}
	} else {
		err = fmt.Errorf("create provider: %w", err)
	}
	if err := s.finish(ctx, action, "provider", p.ID, "", err); err != nil {
		return Provider{}, err
	}
	return p, nil
}

// UpdateProvider changes parts of provider id.
func (s *Service) UpdateProvider(ctx context.Context, id string, patch ProviderPatch) (Provider, error) {
	const action = "provider.update"
	if err := s.authorizeStaffWork(ctx, action, "provider", id, ErrProviderUpkeep); err != nil {
		return Provider{}, err
	}
	p, changed, err := s.updateProvider(ctx, id, patch)
	if err := s.finish(ctx, action, "provider", id, "fields="+strings.Join(changed, ","), err); err != nil {
		return Provider{}, err
	}
	return p, nil
}

func (s *Service) updateProvider(ctx context.Context, id string, patch ProviderPatch) (Provider, []string, error) {
	var cur *Provider
	s.dir.read(func(st *state) { cur = st.providers[id] })
	if cur == nil {
		return Provider{}, nil, fmt.Errorf("update provider: %w", ErrProviderNotFound)
	}
	next, changed := patch.apply(*cur)
	if len(changed) == 0 {
		return next, nil, nil
	}
	if err := validateProvider(next); err != nil {
		return Provider{}, changed, fmt.Errorf("update provider: %w", err)
	}
	next.UpdatedAt = s.opt.now().UTC()
	if err := s.db.Exec(ctx, "UPDATE $rid CONTENT $p RETURN NONE", map[string]any{"rid": store.RecordID("provider", id), "p": next.doc()}); err != nil {
		return Provider{}, changed, fmt.Errorf("update provider: %w", err)
	}
	s.dir.upsertProvider(&next)
	return next, changed, nil
}
