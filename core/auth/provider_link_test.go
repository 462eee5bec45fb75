package auth

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// addProvider stores a provider record as core/patient would.
func (f *fixture) addProvider(t *testing.T, id string) {
	t.Helper()
	require.NoError(t, f.db.Exec(context.Background(), "CREATE $rid CONTENT {name: 'Dr Test'} RETURN NONE",
		map[string]any{"rid": store.RecordID("provider", id)}))
}

func TestProviderLinkOnCreate(t *testing.T) {
	f := newFixture(t, Options{})
	f.addProvider(t, "pr_one")
	tests := []struct {
		name string
		in   NewUser
		want map[string]string // nil: created
	}{
		{"provider linked", NewUser{Email: "doc@x.example", Name: "Doc", Role: actor.RoleProvider, ProviderID: " pr_one "}, nil},
		{"staff linked", NewUser{Email: "desk@x.example", Name: "Desk", Role: actor.RoleStaff, ProviderID: "pr_one"}, nil},
		{"staff unlinked", NewUser{Email: "desk2@x.example", Name: "Desk", Role: actor.RoleStaff}, nil},
		{"provider without link", NewUser{Email: "a@x.example", Name: "A", Role: actor.RoleProvider},
			map[string]string{"provider_id": "is required for the provider role: the provider whose panel the user sees"}},
		{"unknown provider", NewUser{Email: "b@x.example", Name: "B", Role: actor.RoleProvider, ProviderID: "pr_ghost"},
			map[string]string{"provider_id": "no provider has this id"}},
		{"overlong id", NewUser{Email: "b@x.example", Name: "B", Role: actor.RoleStaff, ProviderID: string(make([]byte, 65))},
			map[string]string{"provider_id": "no provider has this id"}},
		{"auditor linked", NewUser{Email: "c@x.example", Name: "C", Role: actor.RoleAuditor, ProviderID: "pr_one"},
			map[string]string{"provider_id": "an auditor is not linked to a provider"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Password = testPassword
			u, err := f.svc.CreateUser(f.admin, tt.in)
			if tt.want != nil {
				require.ErrorIs(t, err, fault.ErrInvalid)
				assert.Equal(t, tt.want, fieldsOf(t, err))
				return
			}
			require.NoError(t, err)
			got, err := f.svc.GetUser(f.admin, u.ID)
			require.NoError(t, err)
			assert.Equal(t, u.ProviderID, got.ProviderID)
			if tt.in.ProviderID != "" {
				assert.Equal(t, "pr_one", got.ProviderID)
			}
		})
	}
	last := f.ev.all()
	assert.Contains(t, last[0].Detail, "role=provider provider=pr_one")
}

func TestProviderLinkOnUpdate(t *testing.T) {
	f := newFixture(t, Options{})
	f.addProvider(t, "pr_one")
	f.addProvider(t, "pr_two")
	u := f.user(t, "doc@x.example", actor.RoleStaff)

	// Making a staff member a provider needs the link in the same change.
	_, err := f.svc.UpdateUser(f.admin, u.ID, UserPatch{Role: ptr(actor.RoleProvider)})
	require.ErrorIs(t, err, fault.ErrInvalid)
	assert.Contains(t, fieldsOf(t, err), "provider_id")

	got, err := f.svc.UpdateUser(f.admin, u.ID, UserPatch{Role: ptr(actor.RoleProvider), ProviderID: ptr("pr_one")})
	require.NoError(t, err)
	assert.Equal(t, actor.RoleProvider, got.Role)
	assert.Equal(t, "pr_one", got.ProviderID)

	// The session acts with the link, and a new link applies at once.
	sess, err := f.svc.Login(client("192.0.2.9"), "doc@x.example", testPassword)
	require.NoError(t, err)
	assert.Equal(t, "pr_one", sess.Actor(actor.Actor{}).ProviderID)
	got, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{ProviderID: ptr("pr_two")})
	require.NoError(t, err)
	assert.Equal(t, "pr_two", got.ProviderID)
	checked, err := f.svc.Check(client("192.0.2.9"), sess.Token)
	require.NoError(t, err)
	assert.Equal(t, "pr_two", checked.Actor(actor.Actor{}).ProviderID)

	// A provider cannot lose its link; an unknown provider is refused.
	for _, link := range []string{"", "pr_ghost"} {
		_, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{ProviderID: ptr(link)})
		require.ErrorIs(t, err, fault.ErrInvalid, link)
	}
	// Back to staff, the link may go.
	got, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{Role: ptr(actor.RoleStaff), ProviderID: ptr("")})
	require.NoError(t, err)
	assert.Equal(t, "", got.ProviderID)
	// An auditor may not be linked.
	_, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{Role: ptr(actor.RoleAuditor), ProviderID: ptr("pr_one")})
	require.ErrorIs(t, err, fault.ErrInvalid)

	var details []string
	for _, e := range f.ev.all() {
		if e.Action == "user.update" {
			details = append(details, e.Detail)
		}
	}
	assert.Equal(t, []string{"fields=provider_id", "fields=provider_id", "fields=provider_id"}, details)
}
