package patient

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
)

// Panels a list may be scoped to (Filter.Panel, StatsOptions.Panel; the
// API's panel= parameter). A panel is the patients whose provider_id is
// one provider's: a user of the provider role sees its own; staff and
// admins linked to a provider may ask for "mine".
const (
	// PanelDefault: a provider's own panel for a provider, everybody for
	// staff and admins.
	PanelDefault = ""
	// PanelMine: the panel of the provider the caller's user is linked to
	// (actor.Actor.ProviderID).
	PanelMine = "mine"
	// PanelAll: every patient; for a provider only when the practice lets
	// providers see all patients (WithProvidersSeeAll).
	PanelAll = "all"
)

// WithProvidersSeeAll sets the practice setting providers_see_all: users
// of the provider role may open (read and change) patients outside their
// panel, and ask for panel=all. Off (the default), such a patient answers
// ErrNotFound to them, so its existence does not leak.
func WithProvidersSeeAll(on bool) Option { return func(o *options) { o.providersSeeAll = on } }

// ErrProviderUpkeep: a provider reads the provider directory; staff and
// admins keep it.
var ErrProviderUpkeep = fault.New(fault.ErrForbidden, "only staff and admins may add or change providers")

// authorizeStaffWork is authorize for what a provider may not do even
// within its panel (keeping the provider directory, merging records):
// refused with refusal and audited as denied.
func (s *Service) authorizeStaffWork(ctx context.Context, action, resource, record string, refusal error) error {
	if err := s.authorize(ctx, action, resource, record, false); err != nil {
		return err
	}
	if actor.From(ctx).Role != actor.RoleProvider {
		return nil
	}
	if err := s.record(ctx, action, resource, record, audit.OutcomeDenied, ""); err != nil {
		return err
	}
	return fmt.Errorf("%s: %w", action, refusal)
}

// scope is the set of patients a caller works with: everybody, or the
// panel of one provider. The directory applies it in the one place every
// read goes through (Filter.predicate, state.stats, Service.open), so the
// list, search, figures, exports and the assistant agree; handlers never
// filter.
type scope struct {
	provider   string // the panel's provider id when restricted
	restricted bool
}

// admits reports whether p is within the scope. A panel of no provider
// holds nobody (not the patients without a provider).
func (sc scope) admits(p *Patient) bool {
	return !sc.restricted || (sc.provider != "" && p.ProviderID == sc.provider)
}

// panelScope is the scope of a list or figures: derived from the actor
// in ctx and the panel asked for. It is the only place a panel is
// decided.
func (s *Service) panelScope(ctx context.Context, panel string) (scope, error) {
	a := actor.From(ctx)
	mine := scope{provider: a.ProviderID, restricted: true}
	switch {
	case panel != PanelDefault && panel != PanelMine && panel != PanelAll:
		return scope{}, fault.Newf(fault.ErrInvalid, "bad query parameter panel: must be %q or %q", PanelMine, PanelAll)
	case a.Role == actor.RoleProvider && panel == PanelAll && !s.opt.providersSeeAll:
		return scope{}, fault.New(fault.ErrInvalid,
			"bad query parameter panel: providers see their own panel in this practice (setting providers_see_all is off)")
	case a.Role == actor.RoleProvider && panel != PanelAll:
		return mine, nil // a provider with no link sees nobody, never everybody
	case panel == PanelMine && a.ProviderID == "":
		return scope{}, fault.New(fault.ErrInvalid,
			"bad query parameter panel: mine needs your user linked to a provider; an admin links it on the Users page")
	case panel == PanelMine:
		return mine, nil
	}
	return scope{}, nil
}

// recordScope is the scope of opening one record: a provider's panel
// unless the practice lets providers see all patients.
func (s *Service) recordScope(ctx context.Context) scope {
	a := actor.From(ctx)
	if a.Role == actor.RoleProvider && !s.opt.providersSeeAll {
		return scope{provider: a.ProviderID, restricted: true}
	}
	return scope{}
}

// open returns the held record of id if the caller may open it: a
// patient outside a provider's panel is not found (not forbidden), so
// whether it exists does not leak. The record is shared: do not modify.
func (s *Service) open(ctx context.Context, id string) (*Patient, bool) {
	p, ok := s.current(id)
	if !ok || !s.recordScope(ctx).admits(p) {
		return nil, false
	}
	return p, true
}

// notOpen is the error for a patient the caller cannot open: not found,
// or merged into another record — named only when the caller may open
// that one (a merge must not reveal another panel's patient).
func (s *Service) notOpen(ctx context.Context, op, id string) error {
	err := s.notFoundOrMerged(op, id)
	var merged *MergedError
	if errors.As(err, &merged) {
		if _, ok := s.open(ctx, merged.Into); !ok {
			return fmt.Errorf("%s: %w", op, ErrNotFound)
		}
	}
	return err
}

// visibleCandidates keeps the duplicate candidates the caller may open:
// a provider's duplicate warning names no patient of another panel.
func (s *Service) visibleCandidates(ctx context.Context, cs []Candidate) []Candidate {
	sc := s.recordScope(ctx)
	if !sc.restricted {
		return cs
	}
	return slices.DeleteFunc(cs, func(c Candidate) bool { _, ok := s.open(ctx, c.ID); return !ok })
}

// ownPanel fills in or checks the provider of a patient a provider
// creates: a new patient joins the creating provider's own panel.
func (s *Service) ownPanel(ctx context.Context, p *Patient) error {
	sc := s.recordScope(ctx)
	switch {
	case !sc.restricted:
		return nil
	case p.ProviderID == "":
		p.ProviderID = sc.provider
	case p.ProviderID != sc.provider:
		return fmt.Errorf("create patient: %w", fault.Field("provider_id", "a provider adds patients to their own panel only"))
	}
	return nil
}

// scopedList answers f from the directory within the caller's panel:
// the one read path of List and Export (all: every match on one page).
func (s *Service) scopedList(ctx context.Context, f *Filter, all bool) (Page, error) {
	err := f.validate()
	if err == nil {
		f.scope, err = s.panelScope(ctx, f.Panel)
	}
	if err != nil {
		return Page{}, err
	}
	today := s.today()
	var page Page
	s.dir.read(func(st *state) {
		if all {
			f.Limit = len(st.byID) + 1
		}
		page, err = st.list(f, today)
	})
	return page, err
}

// scopeDetail names a restricted scope at the end of an audit detail (a
// provider id, not PHI), so the trail shows which panel a read covered.
func scopeDetail(sc scope) string {
	if !sc.restricted {
		return ""
	}
	return " panel=" + sc.provider
}
