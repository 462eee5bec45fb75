package auth

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
)

func ptr[T any](v T) *T { return &v }

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var fs fault.Fields
	require.ErrorAs(t, err, &fs)
	out := map[string]string{}
	for _, f := range fs {
		out[f.Field] = f.Message
	}
	return out
}

func TestCreateUser(t *testing.T) {
	f := newFixture(t, Options{})
	u, err := f.svc.CreateUser(f.admin, NewUser{Email: "  Ana.Diaz@Clinic.Example ", Name: " Ana Diaz ", Role: actor.RoleStaff, Password: testPassword})
	require.NoError(t, err)
	assert.NotEmpty(t, u.ID)
	assert.Equal(t, "ana.diaz@clinic.example", u.Email)
	assert.Equal(t, "Ana Diaz", u.Name)
	assert.Equal(t, actor.RoleStaff, u.Role)
	assert.False(t, u.Disabled)
	assert.Equal(t, f.clock.Now(), u.CreatedAt)

	evs := f.ev.all()
	require.Len(t, evs, 1)
	assert.Equal(t, "user.create", evs[0].Action)
	assert.Equal(t, "user", evs[0].Resource)
	assert.Equal(t, u.ID, evs[0].Record)
	assert.Equal(t, "boss", evs[0].Actor)
	assert.Equal(t, "role=staff", evs[0].Detail)

	got, err := f.svc.GetUser(f.admin, u.ID)
	require.NoError(t, err)
	assert.Equal(t, u, got)
	got, err = f.svc.UserByEmail(f.admin, "ANA.DIAZ@clinic.example")
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)

	_, err = f.svc.CreateUser(f.admin, NewUser{Email: "ana.diaz@clinic.example", Name: "Other", Role: actor.RoleAuditor, Password: testPassword})
	assert.ErrorIs(t, err, fault.ErrConflict)
	assert.Contains(t, err.Error(), "already exists")
}

func TestCreateUserValidation(t *testing.T) {
	f := newFixture(t, Options{})
	tests := []struct {
		name string
		in   NewUser
		want map[string]string
	}{
		{"all missing", NewUser{}, map[string]string{"email": "is required", "name": "is required", "role": "must be one of admin, staff, provider, auditor", "password": "is required"}},
		{"bad email", NewUser{Email: "not-an-email", Name: "A", Role: actor.RoleStaff, Password: testPassword}, map[string]string{"email": "must be an email address like name@practice.example"}},
		{"email with space", NewUser{Email: "a b@x.example", Name: "A", Role: actor.RoleStaff, Password: testPassword}, map[string]string{"email": "must be an email address like name@practice.example"}},
		{"system role", NewUser{Email: "a@x.example", Name: "A", Role: actor.RoleSystem, Password: testPassword}, map[string]string{"role": "must be one of admin, staff, provider, auditor"}},
		{"short password", NewUser{Email: "a@x.example", Name: "A", Role: actor.RoleStaff, Password: "short"}, map[string]string{"password": "must be at least 12 characters long (a few words make a good passphrase)"}},
		{"control characters", NewUser{Email: "a@x.example", Name: "Ann\x00e", Role: actor.RoleStaff, Password: testPassword}, map[string]string{"name": "must not contain control characters"}},
		{"long name", NewUser{Email: "a@x.example", Name: strings.Repeat("n", 121), Role: actor.RoleStaff, Password: testPassword}, map[string]string{"name": "must be at most 120 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.CreateUser(f.admin, tt.in)
			require.ErrorIs(t, err, fault.ErrInvalid)
			assert.Equal(t, tt.want, fieldsOf(t, err))
		})
	}
	users, err := f.svc.ListUsers(f.admin)
	require.NoError(t, err)
	assert.Empty(t, users, "nothing stored")
	assert.Empty(t, f.ev.all(), "refused input is not a change")
}

func TestOnlyAdminsManageUsers(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user(t, "s@x.example", actor.RoleStaff)
	staff := actor.With(context.Background(), actor.Actor{UserID: u.ID, Role: actor.RoleStaff})
	anon := context.Background()
	for name, ctx := range map[string]context.Context{"staff": staff, "anonymous": anon} {
		want := fault.ErrForbidden
		if name == "anonymous" {
			want = fault.ErrUnauthorized
		}
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.CreateUser(ctx, NewUser{Email: "n@x.example", Name: "N", Role: actor.RoleAdmin, Password: testPassword})
			assert.ErrorIs(t, err, want)
			_, err = f.svc.ListUsers(ctx)
			assert.ErrorIs(t, err, want)
			_, err = f.svc.GetUser(ctx, u.ID)
			assert.ErrorIs(t, err, want)
			_, err = f.svc.UserByEmail(ctx, u.Email)
			assert.ErrorIs(t, err, want)
			_, err = f.svc.UpdateUser(ctx, u.ID, UserPatch{Role: ptr(actor.RoleAdmin)})
			assert.ErrorIs(t, err, want)
		})
	}
	// The system (CLI, start-up) may.
	_, err := f.svc.ListUsers(actor.System(context.Background()))
	assert.NoError(t, err)
}

func TestListAndGetUsers(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "zed@x.example", actor.RoleAuditor)
	f.user(t, "amy@x.example", actor.RoleStaff)
	users, err := f.svc.ListUsers(f.admin)
	require.NoError(t, err)
	require.Len(t, users, 2)
	assert.Equal(t, "amy@x.example", users[0].Email)
	assert.Equal(t, "zed@x.example", users[1].Email)

	for _, id := range []string{"nope", "", string(make([]byte, 65))} {
		_, err = f.svc.GetUser(f.admin, id)
		assert.ErrorIs(t, err, fault.ErrNotFound, id)
	}
	_, err = f.svc.UserByEmail(f.admin, "nobody@x.example")
	assert.ErrorIs(t, err, fault.ErrNotFound)
}

func TestUpdateUser(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "root@x.example", actor.RoleAdmin)
	u := f.user(t, "s@x.example", actor.RoleStaff)
	f.ev.reset()
	f.clock.Advance(60e9)

	got, err := f.svc.UpdateUser(f.admin, u.ID, UserPatch{Name: ptr("Sam Staff"), Email: ptr("Sam@X.example"), Role: ptr(actor.RoleAuditor)})
	require.NoError(t, err)
	assert.Equal(t, "Sam Staff", got.Name)
	assert.Equal(t, "sam@x.example", got.Email)
	assert.Equal(t, actor.RoleAuditor, got.Role)
	assert.Equal(t, f.clock.Now(), got.UpdatedAt)
	assert.Equal(t, u.CreatedAt, got.CreatedAt)
	assert.Equal(t, []string{"user.update success", "user.role_change success"}, f.ev.actions())
	assert.Equal(t, "fields=email,name", f.ev.all()[0].Detail)
	assert.Equal(t, "staff->auditor", f.ev.all()[1].Detail)
	for _, e := range f.ev.all() {
		assert.Equal(t, u.ID, e.Record)
		assert.NotContains(t, e.Detail, "sam")
	}

	f.ev.reset()
	same, err := f.svc.UpdateUser(f.admin, u.ID, UserPatch{Name: ptr("Sam Staff")})
	require.NoError(t, err)
	assert.Equal(t, got, same, "no change, nothing written")
	assert.Empty(t, f.ev.all())

	_, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{})
	assert.ErrorIs(t, err, fault.ErrInvalid)
	assert.Contains(t, err.Error(), "nothing to change")

	_, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{Email: ptr("x"), Name: ptr(""), Role: ptr(actor.Role("boss")), Password: ptr("short")})
	require.ErrorIs(t, err, fault.ErrInvalid)
	assert.Equal(t, []string{"email", "name", "password", "role"}, slices.Sorted(maps.Keys(fieldsOf(t, err))))

	_, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{Email: ptr("root@x.example")})
	assert.ErrorIs(t, err, fault.ErrConflict)

	_, err = f.svc.UpdateUser(f.admin, "missing", UserPatch{Name: ptr("X")})
	assert.ErrorIs(t, err, fault.ErrNotFound)
}

func TestDisableAndEnable(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "root@x.example", actor.RoleAdmin)
	u := f.user(t, "s@x.example", actor.RoleStaff)
	sess, err := f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	require.NoError(t, err)
	f.ev.reset()

	got, err := f.svc.UpdateUser(f.admin, u.ID, UserPatch{Disabled: ptr(true)})
	require.NoError(t, err)
	assert.True(t, got.Disabled)
	assert.Equal(t, []string{"user.disable success"}, f.ev.actions())
	_, err = f.svc.Authenticate(context.Background(), sess.Token)
	assert.ErrorIs(t, err, fault.ErrUnauthorized, "a disabled user is signed out at once")

	_, err = f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	assert.ErrorIs(t, err, fault.ErrForbidden)
	assert.Contains(t, err.Error(), "disabled")

	f.ev.reset()
	got, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{Disabled: ptr(false)})
	require.NoError(t, err)
	assert.False(t, got.Disabled)
	assert.Equal(t, []string{"user.enable success"}, f.ev.actions())
	_, err = f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	assert.NoError(t, err)
}

func TestLastAdminStays(t *testing.T) {
	f := newFixture(t, Options{})
	root := f.user(t, "root@x.example", actor.RoleAdmin)
	for name, p := range map[string]UserPatch{
		"demote":  {Role: ptr(actor.RoleStaff)},
		"disable": {Disabled: ptr(true)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.UpdateUser(f.admin, root.ID, p)
			assert.ErrorIs(t, err, fault.ErrConflict)
			assert.Contains(t, err.Error(), "at least one active admin")
		})
	}
	other := f.user(t, "second@x.example", actor.RoleAdmin)
	_, err := f.svc.UpdateUser(f.admin, root.ID, UserPatch{Role: ptr(actor.RoleStaff)})
	require.NoError(t, err)
	_, err = f.svc.UpdateUser(f.admin, other.ID, UserPatch{Disabled: ptr(true)})
	assert.ErrorIs(t, err, fault.ErrConflict)
	// Renaming the last admin is fine.
	_, err = f.svc.UpdateUser(f.admin, other.ID, UserPatch{Name: ptr("Second")})
	assert.NoError(t, err)
}

func TestPasswordReset(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user(t, "s@x.example", actor.RoleAdmin)
	mine, err := f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	require.NoError(t, err)
	other, err := f.svc.Login(client("2.2.2.2"), u.Email, testPassword)
	require.NoError(t, err)
	// Lock the account with failures, then reset the password: unlocked.
	for range 5 {
		_, _ = f.svc.Login(client("3.3.3.3"), u.Email, "wrong password!!")
	}
	_, err = f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	require.ErrorIs(t, err, fault.ErrLocked)
	f.ev.reset()

	self := actor.With(context.Background(), mine.Actor(actor.Actor{}))
	_, err = f.svc.UpdateUser(self, u.ID, UserPatch{Password: ptr("a brand new passphrase")})
	require.NoError(t, err)
	assert.Equal(t, []string{"user.update success"}, f.ev.actions())
	assert.Equal(t, "fields=password", f.ev.all()[0].Detail)

	_, err = f.svc.Authenticate(context.Background(), mine.Token)
	assert.NoError(t, err, "the session that reset the password stays")
	_, err = f.svc.Authenticate(context.Background(), other.Token)
	assert.ErrorIs(t, err, fault.ErrUnauthorized, "every other session ends")

	_, err = f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
	_, err = f.svc.Login(client("1.1.1.1"), u.Email, "a brand new passphrase")
	assert.NoError(t, err, "unlocked by the reset")

	_, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{Email: ptr("new@x.example"), Password: ptr("new@x.example")})
	assert.Equal(t, map[string]string{"password": "must not be the email address"}, fieldsOf(t, err))
}

func TestEnsureAdmin(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	created, pw, err := f.svc.EnsureAdmin(ctx, "Admin@Practice.example", "")
	require.NoError(t, err)
	assert.True(t, created)
	assert.Len(t, pw, 27)
	sess, err := f.svc.Login(client("1.1.1.1"), "admin@practice.example", pw)
	require.NoError(t, err)
	assert.Equal(t, actor.RoleAdmin, sess.User.Role)
	assert.Equal(t, "system", f.ev.all()[0].Actor)

	created, pw, err = f.svc.EnsureAdmin(ctx, "other@practice.example", "")
	require.NoError(t, err)
	assert.False(t, created, "an admin exists")
	assert.Empty(t, pw)
}

func TestEnsureAdminWithPassword(t *testing.T) {
	f := newFixture(t, Options{})
	_, _, err := f.svc.EnsureAdmin(context.Background(), "admin@x.example", "short")
	assert.ErrorIs(t, err, fault.ErrInvalid)

	created, pw, err := f.svc.EnsureAdmin(context.Background(), "admin@x.example", testPassword)
	require.NoError(t, err)
	assert.True(t, created)
	assert.Empty(t, pw, "a given password is not echoed")
}

func TestEnsureAdminEmailTaken(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "admin@x.example", actor.RoleStaff)
	_, _, err := f.svc.EnsureAdmin(context.Background(), "admin@x.example", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "set-role")
}
