package patient

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient/patienttest"
)

// panelFixture holds two providers' panels and a patient without a
// provider, created by staff.
type panelFixture struct {
	*fixture
	provA, provB       Provider
	a1, a2, b1, nobody *Patient
}

func newPanelFixture(t *testing.T, opts ...Option) *panelFixture {
	t.Helper()
	f := &panelFixture{fixture: newFixture(t, opts...)}
	f.provA, f.provB = f.provider(t), f.provider(t)
	mk := func(mrn, first, last, dob, phone, provider string) *Patient {
		in := Input{MRN: mrn, FirstName: first, LastName: last, DateOfBirth: dob, Sex: "female", Phone: phone, ProviderID: provider}
		return f.create(t, in)
	}
	f.a1 = mk("PAN-A1", "Amelia", "Archer", "1961-01-11", "617-555-0101", f.provA.ID)
	f.a2 = mk("PAN-A2", "Bruno", "Bellweather", "1972-02-12", "617-555-0102", f.provA.ID)
	f.b1 = mk("PAN-B1", "Cosima", "Quenneville", "1983-03-13", "617-555-0103", f.provB.ID)
	f.nobody = mk("PAN-N1", "Dmitri", "Okonkwo-Salazar", "1994-04-14", "617-555-0104", "")
	_, err := f.svc.ChangeStatus(f.ctx, f.a1.ID, StatusActive, "", 0)
	require.NoError(t, err)
	_, err = f.svc.ChangeStatus(f.ctx, f.b1.ID, StatusActive, "", 0)
	require.NoError(t, err)
	return f
}

func (f *panelFixture) as(role actor.Role, provider string) context.Context {
	return patienttest.AsLinked(context.Background(), role, provider)
}

// sortedIDs is ids (list_test.go) in id order.
func sortedIDs(p Page) []string {
	out := ids(p)
	slices.Sort(out)
	return out
}

func sorted(xs ...string) []string { slices.Sort(xs); return xs }

func TestPanelScopesLists(t *testing.T) {
	f := newPanelFixture(t)
	everybody := sorted(f.a1.ID, f.a2.ID, f.b1.ID, f.nobody.ID)
	panelA := sorted(f.a1.ID, f.a2.ID)
	tests := []struct {
		name    string
		ctx     context.Context
		filter  Filter
		want    []string
		wantErr string // a 400 naming panel
	}{
		{"provider: own panel by default", f.as(actor.RoleProvider, f.provA.ID), Filter{}, panelA, ""},
		{"provider: mine", f.as(actor.RoleProvider, f.provA.ID), Filter{Panel: PanelMine}, panelA, ""},
		{"provider: search outside the panel finds nobody", f.as(actor.RoleProvider, f.provA.ID), Filter{Q: "Quenneville"}, []string{}, ""},
		{"provider: search inside the panel", f.as(actor.RoleProvider, f.provA.ID), Filter{Q: "Archer"}, []string{f.a1.ID}, ""},
		{"provider: filters combine with the panel", f.as(actor.RoleProvider, f.provA.ID), Filter{Statuses: []Status{StatusActive}}, []string{f.a1.ID}, ""},
		{"provider: another provider's id names nobody of the panel", f.as(actor.RoleProvider, f.provA.ID), Filter{ProviderID: f.provB.ID}, []string{}, ""},
		{"provider: all refused by the setting", f.as(actor.RoleProvider, f.provA.ID), Filter{Panel: PanelAll}, nil, "providers_see_all is off"},
		{"provider without a link sees nobody", f.as(actor.RoleProvider, ""), Filter{}, []string{}, ""},
		{"staff: everybody by default", f.ctx, Filter{}, everybody, ""},
		{"staff: all", f.ctx, Filter{Panel: PanelAll}, everybody, ""},
		{"staff linked: mine", f.as(actor.RoleStaff, f.provA.ID), Filter{Panel: PanelMine}, panelA, ""},
		{"admin linked: mine", f.as(actor.RoleAdmin, f.provB.ID), Filter{Panel: PanelMine}, []string{f.b1.ID}, ""},
		{"staff unlinked: mine explains", f.ctx, Filter{Panel: PanelMine}, nil, "linked to a provider"},
		{"unknown panel", f.ctx, Filter{Panel: "theirs"}, nil, "panel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := f.svc.List(tt.ctx, tt.filter)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, fault.ErrInvalid)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, sortedIDs(page))
			assert.Equal(t, len(tt.want), page.Total)
		})
	}

	// The audit trail names the provider who listed and the panel.
	_, err := f.svc.List(f.as(actor.RoleProvider, f.provA.ID), Filter{})
	require.NoError(t, err)
	e, ok := f.aud.Last("patient.list")
	require.True(t, ok)
	assert.Equal(t, string(actor.RoleProvider), e.Role)
	assert.Equal(t, audit.OutcomeSuccess, e.Outcome)
	assert.Equal(t, "results=2 total=2 panel="+f.provA.ID, e.Detail)
}

func TestPanelSettingLetsProvidersSeeAll(t *testing.T) {
	f := newPanelFixture(t, WithProvidersSeeAll(true))
	prov := f.as(actor.RoleProvider, f.provA.ID)
	page, err := f.svc.List(prov, Filter{})
	require.NoError(t, err)
	assert.Equal(t, 2, page.Total, "the list stays on the panel by default")
	page, err = f.svc.List(prov, Filter{Panel: PanelAll})
	require.NoError(t, err)
	assert.Equal(t, 4, page.Total)
	p, err := f.svc.Get(prov, f.b1.ID)
	require.NoError(t, err)
	assert.Equal(t, f.b1.ID, p.ID)
	_, err = f.svc.Update(prov, f.b1.ID, p.Version, Patch{Language: new("fr")})
	require.NoError(t, err)
	st, err := f.svc.Stats(prov, StatsOptions{Panel: PanelAll})
	require.NoError(t, err)
	assert.Equal(t, 4, st.Total)
}

func TestPanelHidesOtherPatientsAsNotFound(t *testing.T) {
	f := newPanelFixture(t)
	prov := f.as(actor.RoleProvider, f.provA.ID)
	outside := []struct {
		name string
		call func(id string) error
	}{
		{"get", func(id string) error { _, err := f.svc.Get(prov, id); return err }},
		{"get by MRN", func(string) error { _, err := f.svc.GetByMRN(prov, f.b1.MRN); return err }},
		{"history", func(id string) error { _, err := f.svc.History(prov, id); return err }},
		{"update", func(id string) error { _, err := f.svc.Update(prov, id, 1, Patch{Language: new("fr")}); return err }},
		{"status", func(id string) error { _, err := f.svc.ChangeStatus(prov, id, StatusInactive, "", 0); return err }},
	}
	for _, tt := range outside {
		t.Run(tt.name+" outside the panel: not found", func(t *testing.T) {
			for _, id := range []string{f.b1.ID, f.nobody.ID} {
				err := tt.call(id)
				require.ErrorIs(t, err, ErrNotFound, id)
			}
		})
	}
	// Nothing changed behind the 404.
	b1, err := f.svc.Get(f.ctx, f.b1.ID)
	require.NoError(t, err)
	assert.Equal(t, f.b1.Version+1, b1.Version) // the status change of the fixture only
	assert.Equal(t, StatusActive, b1.Status)

	// Inside the panel a provider works like staff.
	p, err := f.svc.Get(prov, f.a2.ID)
	require.NoError(t, err)
	_, err = f.svc.History(prov, f.a2.ID)
	require.NoError(t, err)
	p, err = f.svc.Update(prov, p.ID, p.Version, Patch{Language: new("de")})
	require.NoError(t, err)
	_, err = f.svc.ChangeStatus(prov, p.ID, StatusActive, "", p.Version)
	require.NoError(t, err)
	ev, ok := f.aud.Last("patient.read")
	require.True(t, ok)
	assert.Equal(t, "u_provider", ev.Actor)
	assert.Equal(t, f.a2.ID, ev.Record)

	// A refused read is audited as a failure, without PHI.
	_, _ = f.svc.Get(prov, f.b1.ID)
	ev, _ = f.aud.Last("patient.read")
	assert.Equal(t, audit.OutcomeFailure, ev.Outcome)
	assert.Equal(t, "not_found", ev.Detail)
}

func TestProviderCreatesIntoOwnPanel(t *testing.T) {
	f := newPanelFixture(t)
	prov := f.as(actor.RoleProvider, f.provA.ID)
	p, err := f.svc.Create(prov, Input{MRN: "PAN-NEW", FirstName: "Evangeline", LastName: "Tremblay-Ng", DateOfBirth: "2001-05-15", Sex: "female"})
	require.NoError(t, err)
	assert.Equal(t, f.provA.ID, p.ProviderID)
	_, err = f.svc.Create(prov, Input{MRN: "PAN-NEW2", FirstName: "Fitzgerald", LastName: "Umberto", DateOfBirth: "2002-06-16", Sex: "male", ProviderID: f.provB.ID})
	var fields fault.Fields
	require.ErrorAs(t, err, &fields)
	assert.Equal(t, "provider_id", fields[0].Field)
	// Staff add patients for any provider, or none.
	p, err = f.svc.Create(f.ctx, Input{MRN: "PAN-NEW3", FirstName: "Gwendolyn", LastName: "Vasquez", DateOfBirth: "2003-07-17", Sex: "female"})
	require.NoError(t, err)
	assert.Equal(t, "", p.ProviderID)
}

func TestPanelScopesFigures(t *testing.T) {
	f := newPanelFixture(t)
	tests := []struct {
		name        string
		ctx         context.Context
		opts        StatsOptions
		total       int
		active      int
		transitions int // status changes in the current week (creation excluded)
	}{
		{"provider", f.as(actor.RoleProvider, f.provA.ID), StatsOptions{}, 2, 1, 1},
		{"provider B", f.as(actor.RoleProvider, f.provB.ID), StatsOptions{}, 1, 1, 1},
		{"staff", f.ctx, StatsOptions{}, 4, 2, 2},
		{"staff linked, mine", f.as(actor.RoleStaff, f.provB.ID), StatsOptions{Panel: PanelMine}, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := f.svc.Stats(tt.ctx, tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.total, st.Total)
			assert.Equal(t, tt.active, st.ByStatus[StatusActive])
			last := st.TransitionsPerWeek[len(st.TransitionsPerWeek)-1]
			assert.Equal(t, tt.transitions, last.Counts["onboarding->active"])
		})
	}
	_, err := f.svc.Stats(f.ctx, StatsOptions{Panel: "theirs"})
	require.ErrorIs(t, err, fault.ErrInvalid)
	_, err = f.svc.Stats(f.ctx, StatsOptions{Panel: PanelMine})
	require.ErrorIs(t, err, fault.ErrInvalid)
	e, ok := f.aud.Last("patient.stats")
	require.True(t, ok)
	assert.Equal(t, audit.OutcomeFailure, e.Outcome)
}

func TestParseFilterPanel(t *testing.T) {
	f, err := ParseFilter(map[string][]string{"panel": {"mine"}}, nil)
	require.NoError(t, err)
	assert.Equal(t, PanelMine, f.Panel)
	_, err = ParseFilter(map[string][]string{"panel": {"everyone"}}, nil)
	require.ErrorIs(t, err, fault.ErrInvalid)
	assert.Contains(t, err.Error(), "panel")
}

func TestPanelScopesExport(t *testing.T) {
	f := newPanelFixture(t)
	rows, err := f.svc.Export(f.as(actor.RoleProvider, f.provA.ID), Filter{Sort: "mrn", Limit: 1, Cursor: "ignored"})
	require.NoError(t, err)
	assert.Equal(t, []string{f.a1.ID, f.a2.ID}, ids(Page{Items: rows}))
	e, ok := f.aud.Last("patient.export")
	require.True(t, ok)
	assert.Equal(t, "rows=2 panel="+f.provA.ID, e.Detail)

	rows, err = f.svc.Export(f.ctx, Filter{})
	require.NoError(t, err)
	assert.Len(t, rows, 4)
	_, err = f.svc.Export(patienttest.As(context.Background(), actor.RoleAuditor), Filter{})
	require.ErrorIs(t, err, ErrNotAllowed)
	_, err = f.svc.Export(f.ctx, Filter{Panel: PanelMine})
	require.ErrorIs(t, err, fault.ErrInvalid)
}

func TestPanelHidesWhereAMergedRecordWent(t *testing.T) {
	f := newPanelFixture(t)
	// Staff merge a record of provider A's panel into provider B's patient.
	dup := f.create(t, Input{MRN: "PAN-B1-DUP", FirstName: "Zeno", LastName: "Quillfeather", DateOfBirth: "1999-09-19", Sex: "male",
		ProviderID: f.provA.ID})
	_, err := f.svc.Merge(f.ctx, f.b1.ID, dup.ID)
	require.NoError(t, err)

	var merged *MergedError
	_, err = f.svc.Get(f.as(actor.RoleProvider, f.provB.ID), dup.ID)
	require.ErrorAs(t, err, &merged, "the kept record's provider is sent on")
	assert.Equal(t, f.b1.ID, merged.Into)
	_, err = f.svc.Get(f.as(actor.RoleProvider, f.provA.ID), dup.ID)
	require.ErrorIs(t, err, ErrNotFound)
	assert.False(t, errors.As(err, &merged), "another panel's record is not named")
	assert.NotContains(t, err.Error(), f.b1.ID)
}

func TestPanelScopesDuplicateWarnings(t *testing.T) {
	f := newPanelFixture(t)
	twinOfB1 := Input{MRN: "PAN-TWIN", FirstName: "Cosima", LastName: "Quenevile", DateOfBirth: "1983-03-13", Sex: "female"}
	_, err := f.svc.CreateChecked(f.ctx, twinOfB1, false)
	var dup *DuplicateError
	require.ErrorAs(t, err, &dup, "staff are warned")
	assert.Equal(t, f.b1.ID, dup.Candidates[0].ID)

	prov := f.as(actor.RoleProvider, f.provA.ID)
	cands, err := f.svc.Candidates(prov, twinOfB1, 0)
	require.NoError(t, err)
	assert.Empty(t, cands, "another panel's patient is not named to a provider")
	p, err := f.svc.CreateChecked(prov, twinOfB1, false)
	require.NoError(t, err)
	assert.Equal(t, f.provA.ID, p.ProviderID)
}

func TestProvidersReadButDoNotKeepTheDirectory(t *testing.T) {
	f := newPanelFixture(t)
	prov := f.as(actor.RoleProvider, f.provA.ID)
	ps, err := f.svc.ListProviders(prov)
	require.NoError(t, err)
	assert.Len(t, ps, 2)
	_, err = f.svc.CreateProvider(prov, ProviderInput{Name: "Dr. New"})
	require.ErrorIs(t, err, ErrProviderUpkeep)
	_, err = f.svc.UpdateProvider(prov, f.provB.ID, ProviderPatch{Name: new("Dr. Renamed")})
	require.ErrorIs(t, err, ErrProviderUpkeep)
	e, ok := f.aud.Last("provider.update")
	require.True(t, ok)
	assert.Equal(t, audit.OutcomeDenied, e.Outcome)
	_, err = f.svc.Merge(prov, f.a1.ID, f.a2.ID)
	require.ErrorIs(t, err, ErrMergeNotAllowed)
}
