package patient

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store"
)

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var fs fault.Fields
	require.True(t, errors.As(err, &fs), "want field errors, got %v", err)
	return fs[0].Field
}

// assertNoPHI checks that no audit event carries a value of p.
func assertNoPHI(t *testing.T, events []audit.Event, ps ...*Patient) {
	t.Helper()
	for _, e := range events {
		b, _ := json.Marshal(e)
		s := strings.ToLower(string(b))
		for _, p := range ps {
			for _, v := range []string{p.FirstName, p.LastName, p.MRN, p.DateOfBirth, p.Phone, p.Email, p.Address.Line1} {
				if v != "" {
					assert.NotContains(t, s, strings.ToLower(v), "audit event %s carries PHI", e.Action)
				}
			}
		}
	}
}

func TestCreateGetUpdateDelete(t *testing.T) {
	f := newFixture(t)
	prov := f.provider(t)
	in := input("MRN-100", "Johnathan", "Doe-Ray")
	in.ProviderID = prov.ID
	in.Tags = []string{"vip"}
	p := f.create(t, in)
	assert.True(t, strings.HasPrefix(p.ID, "p_"))
	assert.Len(t, p.ID, 14)
	assert.Equal(t, StatusOnboarding, p.Status)
	assert.Equal(t, 1, p.Version)
	assert.Equal(t, "manual", p.Source)
	assert.Equal(t, testNow, p.CreatedAt)

	got, err := f.svc.Get(f.ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, p, got)
	got.FirstName = "mutated"
	again, _ := f.svc.Get(f.ctx, p.ID)
	assert.Equal(t, "Johnathan", again.FirstName, "returned records are copies")

	// The database holds the same record.
	rows, err := store.Query[[]Patient](context.Background(), f.db, "SELECT *, record::id(id) AS id FROM patient", nil)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	rows[0].normalize()
	assert.Equal(t, *p, rows[0])

	f.clock.Advance(time.Minute)
	city, phone := "Cambridge", ""
	up, err := f.svc.Update(f.ctx, p.ID, 1, Patch{Address: &AddressPatch{City: &city}, Phone: &phone})
	require.NoError(t, err)
	assert.Equal(t, 2, up.Version)
	assert.Equal(t, "Cambridge", up.Address.City)
	assert.Equal(t, "1 Main St", up.Address.Line1, "merge keeps the other parts")
	assert.Equal(t, "", up.Phone)
	assert.Equal(t, testNow.Add(time.Minute), up.UpdatedAt)
	ev, _ := f.aud.Last("patient.update")
	assert.Equal(t, "fields=phone,address.city", ev.Detail)

	// Unchanged patch: no new version.
	same, err := f.svc.Update(f.ctx, p.ID, 2, Patch{Address: &AddressPatch{City: &city}})
	require.NoError(t, err)
	assert.Equal(t, 2, same.Version)

	// Stale version.
	_, err = f.svc.Update(f.ctx, p.ID, 1, Patch{Phone: &phone})
	assert.ErrorIs(t, err, ErrStaleVersion)
	assert.ErrorIs(t, err, fault.ErrConflict)
	assert.Equal(t, "version", fieldOf(t, err))

	h, err := f.svc.History(f.ctx, p.ID)
	require.NoError(t, err)
	require.Len(t, h.Changes, 2)
	assert.Equal(t, "update", h.Changes[0].Action)
	assert.Equal(t, []string{"phone", "address.city"}, h.Changes[0].Fields)
	assert.Equal(t, "create", h.Changes[1].Action)
	assert.Contains(t, h.Changes[1].Fields, "first_name")
	require.Len(t, h.StatusChanges, 1)
	assert.Equal(t, StatusOnboarding, h.StatusChanges[0].To)

	// Delete: admin only.
	err = f.svc.Delete(f.ctx, p.ID, 0)
	assert.ErrorIs(t, err, fault.ErrForbidden)
	assert.ErrorIs(t, f.svc.Delete(f.admin, p.ID, 1), ErrStaleVersion)
	require.NoError(t, f.svc.Delete(f.admin, p.ID, 2))
	_, err = f.svc.Get(f.ctx, p.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, f.svc.Delete(f.admin, p.ID, 0), ErrNotFound)
	n, err := store.Query[int](context.Background(), f.db, "RETURN count(SELECT id FROM patient)", nil)
	require.NoError(t, err)
	assert.Zero(t, n)
	h, err = f.svc.History(f.admin, p.ID)
	require.NoError(t, err, "history outlives the record")
	assert.Equal(t, "delete", h.Changes[0].Action)
	_, err = f.svc.History(f.admin, "p_never")
	assert.ErrorIs(t, err, ErrNotFound)

	// Every step was audited, without PHI.
	var actions []string
	for _, e := range f.aud.Events() {
		actions = append(actions, e.Action+":"+e.Outcome)
		assert.Equal(t, strings.Split(e.Action, ".")[0], e.Resource, e.Action)
	}
	assert.Contains(t, actions, "patient.create:success")
	assert.Contains(t, actions, "patient.read:success")
	assert.Contains(t, actions, "patient.read:failure")
	assert.Contains(t, actions, "patient.update:failure")
	assert.Contains(t, actions, "patient.delete:denied")
	assert.Contains(t, actions, "patient.delete:success")
	assert.Contains(t, actions, "patient.history:success")
	assertNoPHI(t, f.aud.Events(), p, up)
	c, _ := f.aud.Last("patient.create")
	assert.Equal(t, p.ID, c.Record)
	assert.Equal(t, "u_staff", c.Actor)
	assert.Equal(t, "staff", c.Role)
	assert.Equal(t, "req-staff", c.RequestID)
}

func TestCreateRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	f.create(t, input("MRN-1", "Ann", "Lee"))
	cases := []struct {
		name  string
		edit  func(in *Input)
		kind  error
		field string
	}{
		{"duplicate mrn", func(in *Input) { in.MRN = "MRN-1" }, fault.ErrConflict, "mrn"},
		{"feb 31", func(in *Input) { in.DateOfBirth = "1984-02-31" }, fault.ErrInvalid, "date_of_birth"},
		{"unknown provider", func(in *Input) { in.ProviderID = "pr_x" }, fault.ErrInvalid, "provider_id"},
		{"bad status", func(in *Input) { in.Status = "gone" }, fault.ErrInvalid, "status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := input("MRN-2", "Bob", "Ray")
			c.edit(&in)
			_, err := f.svc.Create(f.ctx, in)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.kind)
			assert.Equal(t, c.field, fieldOf(t, err))
			ev, _ := f.aud.Last("patient.create")
			assert.Equal(t, audit.OutcomeFailure, ev.Outcome)
		})
	}
	ev, _ := f.aud.Last("patient.create")
	assert.Equal(t, "invalid=status", ev.Detail)
	assert.Equal(t, 1, f.svc.Count(), "nothing stored")

	// A created-as-active import and defaults.
	p, err := f.svc.Create(f.ctx, Input{MRN: "imp-9", FirstName: "I", LastName: "M", Status: StatusActive, Source: "import:x.xml"})
	require.NoError(t, err)
	assert.Equal(t, StatusActive, p.Status)
	assert.Equal(t, "unknown", p.Sex)
	assert.Equal(t, []string{}, p.Tags)
}

func TestUpdateRules(t *testing.T) {
	f := newFixture(t)
	a := f.create(t, input("MRN-A", "Ann", "Lee"))
	f.create(t, input("MRN-B", "Bob", "Ray"))
	s := func(v string) *string { return &v }
	two := 2
	one := 1
	cases := []struct {
		name    string
		version int
		patch   Patch
		kind    error
		field   string
	}{
		{"no version", 0, Patch{FirstName: s("X")}, fault.ErrInvalid, "version"},
		{"versions disagree", 1, Patch{FirstName: s("X"), Version: &two}, fault.ErrInvalid, "version"},
		{"status through workflow", 1, Patch{Status: s("active")}, fault.ErrInvalid, "status"},
		{"duplicate mrn", 1, Patch{MRN: s("MRN-B")}, fault.ErrConflict, "mrn"},
		{"bad email", 1, Patch{Email: s("x")}, fault.ErrInvalid, "email"},
		{"clear last name", 0, Patch{LastName: s(""), Version: &one}, fault.ErrInvalid, "last_name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.Update(f.ctx, a.ID, c.version, c.patch)
			assert.ErrorIs(t, err, c.kind)
			assert.Equal(t, c.field, fieldOf(t, err))
		})
	}
	_, err := f.svc.Update(f.ctx, "p_nope", 1, Patch{FirstName: s("X")})
	assert.ErrorIs(t, err, ErrNotFound)

	// Version in the body alone works; every field kind merges.
	ids := []Identifier{{System: "urn:x", Value: "1"}}
	tags := []string{"a"}
	up, err := f.svc.Update(f.ctx, a.ID, 0, Patch{Version: &one, MRN: s("MRN-A2"), MiddleNames: &tags, PreferredName: s("Annie"),
		DateOfBirth: s("1970-01-01"), Sex: s("other"), Language: s("es"), MaritalStatus: s("M"), Race: &tags, Ethnicity: &tags,
		Insurance: &InsurancePatch{Payer: s("Cigna"), MemberID: s("9"), Group: s("g")}, Identifiers: &ids, Tags: &tags, Source: s("x"),
		Address: &AddressPatch{Line1: s("2"), Line2: s("b"), State: s("NY"), PostalCode: s("10001"), Country: s("US")}})
	require.NoError(t, err)
	assert.Equal(t, 2, up.Version)
	assert.Equal(t, "MRN-A2", up.MRN)
	got, err := f.svc.GetByMRN(f.ctx, "MRN-A2")
	require.NoError(t, err)
	assert.Equal(t, up, got)
	_, err = f.svc.GetByMRN(f.ctx, "MRN-A")
	assert.ErrorIs(t, err, ErrNotFound)
	// The old MRN is free again.
	f.create(t, input("MRN-A", "Cy", "Po"))
}

func TestStatusWorkflow(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, input("MRN-S", "Sam", "Ode"))
	steps := []struct {
		name    string
		to      Status
		reason  string
		version int
		kind    error
		field   string
	}{
		{"unknown status", "deleted", "", 0, fault.ErrInvalid, "to"},
		{"skip to inactive", StatusInactive, "", 0, ErrForbiddenTransition, "to"},
		{"same status", StatusOnboarding, "", 0, ErrForbiddenTransition, "to"},
		{"churn needs reason", StatusChurned, " ", 0, fault.ErrInvalid, "reason"},
		{"stale version", StatusActive, "", 7, ErrStaleVersion, "version"},
		{"activate", StatusActive, "", 1, nil, ""},
		{"back to onboarding", StatusOnboarding, "", 0, ErrForbiddenTransition, "to"},
		{"pause", StatusInactive, "", 0, nil, ""},
		{"resume", StatusActive, "", 0, nil, ""},
		{"churn", StatusChurned, "moved away", 0, nil, ""},
		{"reactivation needs reason", StatusActive, "", 0, fault.ErrInvalid, "reason"},
		{"reason too long", StatusActive, strings.Repeat("r", 501), 0, fault.ErrInvalid, "reason"},
		{"reactivate", StatusActive, "came back", 0, nil, ""},
	}
	version := 1
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			f.clock.Advance(time.Hour)
			got, err := f.svc.ChangeStatus(f.ctx, p.ID, s.to, s.reason, s.version)
			if s.kind != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, s.kind)
				assert.Equal(t, s.field, fieldOf(t, err))
				return
			}
			require.NoError(t, err)
			version++
			assert.Equal(t, s.to, got.Status)
			assert.Equal(t, version, got.Version)
			assert.Equal(t, f.clock.Now(), got.StatusChangedAt)
		})
	}
	ev, _ := f.aud.Last("patient.status_change")
	assert.Equal(t, "churned->active", ev.Detail)
	_, err := f.svc.ChangeStatus(f.ctx, p.ID, StatusOnboarding, "", 0)
	assert.ErrorContains(t, err, "allowed: inactive, churned")
	_, err = f.svc.ChangeStatus(f.ctx, "p_nope", StatusActive, "", 0)
	assert.ErrorIs(t, err, ErrNotFound)

	h, err := f.svc.History(f.ctx, p.ID)
	require.NoError(t, err)
	var path []string
	for i := len(h.StatusChanges) - 1; i >= 0; i-- {
		c := h.StatusChanges[i]
		path = append(path, string(c.From)+">"+string(c.To))
		assert.Equal(t, "u_staff", c.Actor)
	}
	assert.Equal(t, []string{">onboarding", "onboarding>active", "active>inactive", "inactive>active", "active>churned", "churned>active"}, path)
	assert.Equal(t, "came back", h.StatusChanges[0].Reason)
	assertNoPHI(t, f.aud.Events(), p)
	assert.NotContains(t, ev.Detail, "came back", "reasons are free text: not audited")

	st, err := f.svc.Stats(f.ctx)
	require.NoError(t, err)
	last := st.TransitionsPerWeek[len(st.TransitionsPerWeek)-1]
	assert.Equal(t, 5, last.Total)
	assert.Equal(t, 2, last.Counts["inactive->active"]+last.Counts["churned->active"])
}

func TestRolesAndAuditFailure(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, input("MRN-R", "Rae", "Oak"))
	auditor := patienttest.As(context.Background(), actor.RoleAuditor)
	anon := context.Background()
	calls := map[string]func(ctx context.Context) error{
		"get":    func(ctx context.Context) error { _, err := f.svc.Get(ctx, p.ID); return err },
		"list":   func(ctx context.Context) error { _, err := f.svc.List(ctx, Filter{}); return err },
		"create": func(ctx context.Context) error { _, err := f.svc.Create(ctx, input("X", "Y", "Z")); return err },
		"update": func(ctx context.Context) error { _, err := f.svc.Update(ctx, p.ID, 1, Patch{}); return err },
		"status": func(ctx context.Context) error {
			_, err := f.svc.ChangeStatus(ctx, p.ID, StatusActive, "", 0)
			return err
		},
		"delete":  func(ctx context.Context) error { return f.svc.Delete(ctx, p.ID, 0) },
		"history": func(ctx context.Context) error { _, err := f.svc.History(ctx, p.ID); return err },
		"stats":   func(ctx context.Context) error { _, err := f.svc.Stats(ctx); return err },
		"bymrn":   func(ctx context.Context) error { _, err := f.svc.GetByMRN(ctx, "nope"); return err },
		"provs":   func(ctx context.Context) error { _, err := f.svc.ListProviders(ctx); return err },
		"prov":    func(ctx context.Context) error { _, err := f.svc.GetProvider(ctx, "pr_x"); return err },
		"mkprov": func(ctx context.Context) error {
			_, err := f.svc.CreateProvider(ctx, ProviderInput{Name: "x"})
			return err
		},
		"upprov": func(ctx context.Context) error {
			_, err := f.svc.UpdateProvider(ctx, "pr_x", ProviderPatch{})
			return err
		},
		"seed": func(ctx context.Context) error { return Seed(ctx, f.svc, 1, 1) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, call(auditor), fault.ErrForbidden)
			ev := f.aud.Events()[len(f.aud.Events())-1]
			assert.Equal(t, audit.OutcomeDenied, ev.Outcome)
			assert.Equal(t, "auditor", ev.Role)
			assert.ErrorIs(t, call(anon), fault.ErrUnauthorized)
		})
	}
	// No unaudited access: when the audit trail fails, reads fail.
	f.aud.SetFailing(true)
	for name, call := range calls {
		if name == "prov" || name == "provs" {
			continue // provider reads are not PHI and not audited
		}
		t.Run("audit down "+name, func(t *testing.T) {
			err := call(f.admin)
			assert.ErrorIs(t, err, fault.ErrUnavailable)
		})
	}
	f.aud.SetFailing(false)
}

func TestProviders(t *testing.T) {
	f := newFixture(t)
	b, err := f.svc.CreateProvider(f.admin, ProviderInput{Name: "Dr. Zed", Specialty: "Pediatrics"})
	require.NoError(t, err)
	a, err := f.svc.CreateProvider(f.ctx, ProviderInput{Name: "dr. Abe", NPI: "1234567890"})
	require.NoError(t, err)
	_, err = f.svc.CreateProvider(f.ctx, ProviderInput{Name: ""})
	assert.Equal(t, "name", fieldOf(t, err))
	list, err := f.svc.ListProviders(f.ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, a.ID, list[0].ID)
	assert.Equal(t, b.ID, list[1].ID)

	name := "Dr. Zed Jr."
	f.clock.Advance(time.Second)
	up, err := f.svc.UpdateProvider(f.ctx, b.ID, ProviderPatch{Name: &name})
	require.NoError(t, err)
	assert.Equal(t, name, up.Name)
	assert.Equal(t, "Pediatrics", up.Specialty)
	got, err := f.svc.GetProvider(f.ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, up, got)
	same, err := f.svc.UpdateProvider(f.ctx, b.ID, ProviderPatch{Name: &name})
	require.NoError(t, err)
	assert.Equal(t, up, same)
	bad := "12"
	_, err = f.svc.UpdateProvider(f.ctx, b.ID, ProviderPatch{NPI: &bad})
	assert.Equal(t, "npi", fieldOf(t, err))
	_, err = f.svc.UpdateProvider(f.ctx, "pr_none", ProviderPatch{Name: &name})
	assert.ErrorIs(t, err, ErrProviderNotFound)
	_, err = f.svc.GetProvider(f.ctx, "pr_none")
	assert.ErrorIs(t, err, ErrProviderNotFound)

	// Loaded again from the database.
	f2 := newFixtureOn(t, f.db, WithoutLive())
	list2, err := f2.svc.ListProviders(f2.ctx)
	require.NoError(t, err)
	assert.Equal(t, len(list), len(list2))
	in := input("MRN-P", "P", "Q")
	in.ProviderID = a.ID
	f2.create(t, in)
}

// TestTwoInstancesAgree runs two services (two core instances) on one
// database: B sees A's create, update, status change and delete within a
// second, through live queries.
func TestTwoInstancesAgree(t *testing.T) {
	a := newFixture(t)
	b := newFixtureOn(t, a.db)
	within := func(cond func() bool, what string) {
		t.Helper()
		require.Eventually(t, cond, time.Second, 10*time.Millisecond, what)
	}
	prov := a.provider(t)
	within(func() bool { _, err := b.svc.GetProvider(b.ctx, prov.ID); return err == nil }, "provider")
	in := input("MRN-L", "Lia", "Vo")
	in.ProviderID = prov.ID
	p := a.create(t, in)
	within(func() bool { got, err := b.svc.Get(b.ctx, p.ID); return err == nil && got.MRN == "MRN-L" }, "create")
	city := "Austin"
	_, err := a.svc.Update(a.ctx, p.ID, 1, Patch{Address: &AddressPatch{City: &city}})
	require.NoError(t, err)
	within(func() bool {
		got, _ := b.svc.Get(b.ctx, p.ID)
		return got != nil && got.Version == 2 && got.Address.City == "Austin"
	}, "update")
	// B writes on top of what it learned from A.
	_, err = b.svc.ChangeStatus(b.ctx, p.ID, StatusActive, "", 2)
	require.NoError(t, err)
	within(func() bool { got, _ := a.svc.Get(a.ctx, p.ID); return got != nil && got.Status == StatusActive }, "status")
	within(func() bool {
		st, _ := a.svc.Stats(a.ctx)
		return st.TransitionsPerWeek[len(st.TransitionsPerWeek)-1].Total == 1
	}, "transition stats")
	page, err := b.svc.List(b.ctx, Filter{Q: "Lia"})
	require.NoError(t, err)
	assert.Equal(t, 1, page.Total)
	require.NoError(t, a.svc.Delete(a.admin, p.ID, 0))
	within(func() bool { _, err := b.svc.Get(b.ctx, p.ID); return errors.Is(err, ErrNotFound) }, "delete")
	assert.Equal(t, 0, b.svc.Count())

	// Concurrent writers: exactly one of two updates at the same version wins.
	q := a.create(t, input("MRN-C", "Cy", "Po"))
	within(func() bool { _, err := b.svc.Get(b.ctx, q.ID); return err == nil }, "create 2")
	x, y := "X", "Y"
	_, errA := a.svc.Update(a.ctx, q.ID, 1, Patch{FirstName: &x})
	_, errB := b.svc.Update(b.ctx, q.ID, 1, Patch{FirstName: &y})
	require.NoError(t, errA)
	assert.ErrorIs(t, errB, ErrStaleVersion)
}

func TestReloadAndLoadPaging(t *testing.T) {
	f := newFixture(t, WithLoadPageSize(3))
	var last *Patient
	for i := range 7 {
		f.clock.Advance(1234567 * time.Nanosecond)
		last = f.create(t, input("MRN-"+string(rune('a'+i)), "N", "M"))
	}
	g := newFixtureOn(t, f.db, WithLoadPageSize(3), WithoutLive())
	assert.Equal(t, 7, g.svc.Count())
	loaded, err := g.svc.Get(g.ctx, last.ID)
	require.NoError(t, err)
	assert.Equal(t, last, loaded, "times keep their nanoseconds through the database")
	require.NoError(t, g.svc.Reload(context.Background()))
	assert.Equal(t, 7, g.svc.Count())
	_, err = New(context.Background(), f.db, nil)
	assert.Error(t, err, "an auditor is required")
}

// Stats are cached per directory change and minute: a write shows at once.
func TestStatsCacheFollowsChanges(t *testing.T) {
	f := newFixture(t)
	f.create(t, input("MRN-S1", "Ann", "Lee"))
	statsReads := func() int {
		n := 0
		for _, e := range f.aud.Events() {
			if e.Action == "patient.stats" {
				n++
			}
		}
		return n
	}
	s1, err := f.svc.Stats(f.ctx)
	require.NoError(t, err)
	again, err := f.svc.Stats(f.ctx)
	require.NoError(t, err)
	assert.Equal(t, s1, again)
	assert.Equal(t, 2, statsReads(), "a cached answer is audited like a computed one")
	f.create(t, input("MRN-S2", "Bob", "Ray"))
	s2, err := f.svc.Stats(f.ctx)
	require.NoError(t, err)
	assert.Equal(t, s1.Total+1, s2.Total, "a change invalidates the cached figures")
}
