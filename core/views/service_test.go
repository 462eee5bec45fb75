package views_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/core/views"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func as(user string, role actor.Role) context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: user, Role: role, RequestID: "r-" + user})
}

func newService(t *testing.T) (*views.Service, *patienttest.Auditor) {
	t.Helper()
	aud := &patienttest.Auditor{}
	return views.New(storetest.New(t), aud, views.WithLocation(time.UTC)), aud
}

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var fs fault.Fields
	require.True(t, errors.As(err, &fs), "want field errors, got %v", err)
	return fs[0].Field
}

func ptr[T any](v T) *T { return &v }

// TestViewsCRUDAndSharing: a personal view is its owner's alone; a shared
// one is listed for everybody, changed only by its owner or an admin, and
// pinned by each user for themselves.
func TestViewsCRUDAndSharing(t *testing.T) {
	svc, aud := newService(t)
	ann, bob, boss := as("u_ann", actor.RoleStaff), as("u_bob", actor.RoleStaff), as("u_boss", actor.RoleAdmin)

	mine, err := svc.Create(ann, views.Input{Name: "  My onboarding ", Query: "?status=onboarding&limit=10&cursor=abc&q="})
	require.NoError(t, err)
	assert.Equal(t, "My onboarding", mine.Name)
	assert.Equal(t, "status=onboarding", mine.Query, "paging parameters and empty values are dropped")
	assert.True(t, mine.Mine)
	assert.True(t, mine.CanEdit)
	assert.False(t, mine.Shared)
	shared, err := svc.Create(ann, views.Input{Name: "Overdue onboarding", Query: "status=onboarding&created_to=2026-01-01", Shared: true, Pinned: true})
	require.NoError(t, err)
	assert.True(t, shared.Pinned)

	list, err := svc.List(bob)
	require.NoError(t, err)
	require.Len(t, list, 1, "bob sees the shared view only")
	assert.Equal(t, shared.ID, list[0].ID)
	assert.False(t, list[0].Mine)
	assert.False(t, list[0].CanEdit)
	assert.False(t, list[0].Pinned, "pins are per user")
	list, err = svc.List(ann)
	require.NoError(t, err)
	assert.Len(t, list, 2)

	_, err = svc.Get(bob, mine.ID)
	assert.ErrorIs(t, err, views.ErrNotFound, "another's personal view does not exist for bob")
	_, err = svc.Update(bob, shared.ID, views.Patch{Name: ptr("Bob's now")})
	assert.ErrorIs(t, err, views.ErrNotOwner)
	assert.ErrorIs(t, err, fault.ErrForbidden)
	assert.ErrorIs(t, svc.Delete(bob, shared.ID), views.ErrNotOwner)
	assert.ErrorIs(t, svc.Delete(bob, mine.ID), views.ErrNotFound)
	_, err = svc.Update(boss, mine.ID, views.Patch{Name: ptr("x")})
	assert.ErrorIs(t, err, views.ErrNotFound, "an admin does not see personal views of others")

	// Bob pins the shared view for himself; ann's pin stays.
	v, err := svc.Update(bob, shared.ID, views.Patch{Pinned: ptr(true)})
	require.NoError(t, err)
	assert.True(t, v.Pinned)
	pinned, err := svc.Pinned(bob)
	require.NoError(t, err)
	require.Len(t, pinned, 1)
	pinned, err = svc.Pinned(ann)
	require.NoError(t, err)
	require.Len(t, pinned, 1)
	_, err = svc.Update(ann, shared.ID, views.Patch{Pinned: ptr(false)})
	require.NoError(t, err)
	pinned, err = svc.Pinned(ann)
	require.NoError(t, err)
	assert.Empty(t, pinned)
	pinned, err = svc.Pinned(bob)
	require.NoError(t, err)
	assert.Len(t, pinned, 1, "ann's unpin left bob's pin")

	// An admin edits a shared view; the owner renames and unshares it.
	v, err = svc.Update(boss, shared.ID, views.Patch{Query: ptr("status=onboarding&created_to=2026-02-01")})
	require.NoError(t, err)
	assert.Equal(t, "created_to=2026-02-01&status=onboarding", v.Query)
	v, err = svc.Update(ann, shared.ID, views.Patch{Name: ptr("Old onboarding"), Shared: ptr(false)})
	require.NoError(t, err)
	assert.False(t, v.Shared)
	_, err = svc.Get(bob, shared.ID)
	assert.ErrorIs(t, err, views.ErrNotFound)

	// Names are unique per owner, whatever the case.
	_, err = svc.Create(ann, views.Input{Name: "my ONBOARDING", Query: "status=active"})
	assert.Equal(t, "name", fieldOf(t, err))
	assert.ErrorIs(t, err, fault.ErrConflict)
	_, err = svc.Create(bob, views.Input{Name: "My onboarding", Query: "status=active"})
	require.NoError(t, err, "another user may use the same name")
	_, err = svc.Update(ann, shared.ID, views.Patch{Name: ptr("MY onboarding")})
	assert.Equal(t, "name", fieldOf(t, err))

	require.NoError(t, svc.Delete(ann, mine.ID))
	_, err = svc.Get(ann, mine.ID)
	assert.ErrorIs(t, err, views.ErrNotFound)

	// Writes are audited with ids and field names only.
	var actions []string
	for _, e := range aud.Events() {
		actions = append(actions, e.Action+":"+e.Outcome)
		assert.NotContains(t, e.Detail, "onboarding")
		assert.Equal(t, "view", e.Resource)
	}
	assert.Contains(t, actions, "view.create:success")
	assert.Contains(t, actions, "view.update:denied")
	assert.Contains(t, actions, "view.delete:success")
	assert.Contains(t, actions, "view.create:failure")
}

func TestViewValidationAndRoles(t *testing.T) {
	svc, aud := newService(t)
	staff := as("u_s", actor.RoleStaff)
	long := strings.Repeat("x", views.MaxName+1)
	cases := []struct {
		name  string
		in    views.Input
		field string
	}{
		{"no name", views.Input{Name: "  ", Query: "status=active"}, "name"},
		{"long name", views.Input{Name: long}, "name"},
		{"two lines", views.Input{Name: "a\nb"}, "name"},
		{"unknown parameter", views.Input{Name: "n", Query: "colour=red"}, "query"},
		{"bad status", views.Input{Name: "n", Query: "status=asleep"}, "query"},
		{"not a query", views.Input{Name: "n", Query: "%zz"}, "query"},
		{"long query", views.Input{Name: "n", Query: "q=" + strings.Repeat("a", views.MaxQuery)}, "query"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Create(staff, tc.in)
			require.ErrorIs(t, err, fault.ErrInvalid)
			assert.Equal(t, tc.field, fieldOf(t, err))
		})
	}
	_, err := svc.List(as("u_a", actor.RoleAuditor))
	assert.ErrorIs(t, err, views.ErrNotAllowed)
	_, err = svc.List(context.Background())
	assert.ErrorIs(t, err, views.ErrNotSignedIn)
	_, err = svc.Create(as("u_a", actor.RoleAuditor), views.Input{Name: "n"})
	assert.ErrorIs(t, err, fault.ErrForbidden)
	_, err = svc.Get(staff, "not-an-id")
	assert.ErrorIs(t, err, views.ErrNotFound)
	_, err = svc.FindByName(staff, "nothing")
	assert.ErrorIs(t, err, views.ErrNotFound)
	v, err := svc.Create(staff, views.Input{Name: "All", Query: ""})
	require.NoError(t, err)
	same, err := svc.Update(staff, v.ID, views.Patch{Name: ptr("All"), Pinned: ptr(false)})
	require.NoError(t, err)
	assert.Equal(t, v.UpdatedAt, same.UpdatedAt, "nothing changed")
	_, err = svc.Update(staff, v.ID, views.Patch{Query: ptr("status=asleep")})
	assert.Equal(t, "query", fieldOf(t, err))

	// An audit trail that is down refuses the write.
	aud.SetFailing(true)
	_, err = svc.Create(staff, views.Input{Name: "Later"})
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	aud.SetFailing(false)
	ev, ok := aud.Last("view.create")
	require.True(t, ok)
	assert.Equal(t, audit.OutcomeSuccess, ev.Outcome)
}

// TestFindByName: the caller's own view wins over a shared one of the
// same name; names match without case or extra spaces.
func TestFindByName(t *testing.T) {
	svc, _ := newService(t)
	ann, bob := as("u_ann", actor.RoleStaff), as("u_bob", actor.RoleStaff)
	shared, err := svc.Create(ann, views.Input{Name: "Overdue onboarding", Query: "status=onboarding", Shared: true})
	require.NoError(t, err)
	got, err := svc.FindByName(bob, "overdue   ONBOARDING")
	require.NoError(t, err)
	assert.Equal(t, shared.ID, got.ID)
	own, err := svc.Create(bob, views.Input{Name: "Overdue Onboarding", Query: "status=onboarding&sort=-created_at"})
	require.NoError(t, err)
	got, err = svc.FindByName(bob, "overdue onboarding")
	require.NoError(t, err)
	assert.Equal(t, own.ID, got.ID)
	f, err := views.Filter(got.Query, time.UTC)
	require.NoError(t, err)
	assert.Equal(t, "-created_at", f.Sort)
	_, err = views.Filter("%zz", time.UTC)
	assert.Error(t, err)
}
