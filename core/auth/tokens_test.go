package auth

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// An invitation link sets the password once, signs the user out
// everywhere, voids their other links, and is audited as the user; the
// stored record holds only the token's hash.
func TestInvitationLinkWorksOnce(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user(t, "new@x.example", actor.RoleStaff)
	old, err := f.svc.Login(client("10.1.1.1"), "new@x.example", testPassword)
	require.NoError(t, err)

	inv, err := f.svc.Invite(f.admin, u.ID)
	require.NoError(t, err)
	assert.Equal(t, f.clock.Now().Add(InviteValidity), inv.ExpiresAt)
	reset, ok, err := f.svc.RequestReset(client("10.1.1.2"), "new@x.example")
	require.NoError(t, err)
	require.True(t, ok)

	hashes, err := store.Query[[]string](context.Background(), f.db, "SELECT VALUE token_hash FROM password_token", nil)
	require.NoError(t, err)
	require.Len(t, hashes, 2)
	assert.NotContains(t, hashes, inv.Token)
	assert.Contains(t, hashes, tokenHash(inv.Token))

	link, err := f.svc.TokenLink(context.Background(), inv.ID)
	require.NoError(t, err)
	assert.Equal(t, inv.Token, link.Token, "the job rebuilds the same link from the record id")
	assert.Equal(t, PurposeInvite, link.Purpose)

	got, err := f.svc.SetPasswordWithToken(client("10.1.1.3"), inv.Token, "a new long password 1")
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)
	_, err = f.svc.Authenticate(context.Background(), old.Token)
	assert.ErrorIs(t, err, ErrNoSession, "sessions end when the password is set")
	_, err = f.svc.Login(client("10.1.1.4"), "new@x.example", "a new long password 1")
	require.NoError(t, err)

	_, err = f.svc.SetPasswordWithToken(client("10.1.1.3"), inv.Token, "another long password 2")
	assert.ErrorIs(t, err, ErrTokenInvalid, "used once")
	_, err = f.svc.SetPasswordWithToken(client("10.1.1.3"), reset.Token, "another long password 2")
	assert.ErrorIs(t, err, ErrTokenInvalid, "the other open link was voided")
	_, err = f.svc.TokenLink(context.Background(), inv.ID)
	assert.ErrorIs(t, err, ErrTokenInvalid)
	assert.Contains(t, f.ev.actions(), "user.password_set success")
	for _, e := range f.ev.all() {
		if e.Action == "user.password_set" {
			assert.Equal(t, u.ID, e.Actor)
			assert.Equal(t, "via=invite", e.Detail)
		}
	}
}

// A reset link expires after an hour, an invitation after a day.
func TestLinksExpire(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user(t, "late@x.example", actor.RoleStaff)
	reset, ok, err := f.svc.RequestReset(client("10.2.0.1"), "late@x.example")
	require.NoError(t, err)
	require.True(t, ok)
	inv, err := f.svc.Invite(f.admin, u.ID)
	require.NoError(t, err)
	f.clock.Advance(ResetValidity + time.Second)
	_, err = f.svc.SetPasswordWithToken(client("10.2.0.1"), reset.Token, "a new long password 1")
	assert.ErrorIs(t, err, ErrTokenInvalid)
	_, err = f.svc.TokenLink(context.Background(), reset.ID)
	assert.ErrorIs(t, err, ErrTokenInvalid)
	f.clock.Advance(InviteValidity)
	_, err = f.svc.SetPasswordWithToken(client("10.2.0.1"), inv.Token, "a new long password 1")
	assert.ErrorIs(t, err, ErrTokenInvalid)
}

// A password the rules refuse does not use the link up; bad tokens,
// disabled users and non-admin inviters are refused.
func TestLinkRefusals(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user(t, "who@x.example", actor.RoleStaff)
	inv, err := f.svc.Invite(f.admin, u.ID)
	require.NoError(t, err)
	_, err = f.svc.SetPasswordWithToken(client("10.3.0.1"), inv.Token, "short")
	assert.ErrorIs(t, err, fault.ErrInvalid)
	assert.NotErrorIs(t, err, ErrTokenInvalid)
	_, err = f.svc.SetPasswordWithToken(client("10.3.0.1"), inv.Token, "")
	assert.ErrorIs(t, err, fault.ErrInvalid)
	for _, bad := range []string{"", "nope", string(make([]byte, 200))} {
		_, err = f.svc.SetPasswordWithToken(client("10.3.0.1"), bad, "a new long password 1")
		assert.ErrorIs(t, err, ErrTokenInvalid)
	}
	_, err = f.svc.TokenLink(context.Background(), "bad id!")
	assert.ErrorIs(t, err, ErrTokenInvalid)
	_, err = f.svc.TokenLink(context.Background(), "unknown")
	assert.ErrorIs(t, err, ErrTokenInvalid)

	staff := actor.With(context.Background(), actor.Actor{UserID: u.ID, Role: actor.RoleStaff})
	_, err = f.svc.Invite(staff, u.ID)
	assert.ErrorIs(t, err, fault.ErrForbidden)
	_, err = f.svc.Invite(f.admin, "missing")
	assert.ErrorIs(t, err, fault.ErrNotFound)

	disabled := true
	_, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{Disabled: &disabled})
	require.NoError(t, err)
	_, err = f.svc.SetPasswordWithToken(client("10.3.0.1"), inv.Token, "a new long password 1")
	assert.ErrorIs(t, err, ErrTokenInvalid, "a disabled user's link does not work")
	_, ok, err := f.svc.RequestReset(client("10.3.0.2"), "who@x.example")
	require.NoError(t, err)
	assert.False(t, ok, "a disabled user gets no reset link")
	_, ok, err = f.svc.RequestReset(client("10.3.0.2"), "nobody@x.example")
	require.NoError(t, err)
	assert.False(t, ok)
}

// Reset requests are limited per address and per client, known and
// unknown addresses alike.
func TestResetRequestsAreRateLimited(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "rl@x.example", actor.RoleStaff)
	for _, addr := range []string{"rl@x.example", "ghost@x.example"} {
		var err error
		for i := range ResetsPerHour + 1 {
			_, _, err = f.svc.RequestReset(client("10.4.0."+string(rune('1'+i))), addr)
		}
		assert.ErrorIs(t, err, ErrResetThrottled, addr)
		assert.ErrorIs(t, err, fault.ErrTooMany)
	}
	var err error
	for i := range ResetsPerHour + 1 {
		_, _, err = f.svc.RequestReset(client("10.4.9.9"), "other"+string(rune('a'+i))+"@x.example")
	}
	assert.ErrorIs(t, err, ErrResetThrottled, "per client address")
	f.clock.Advance(time.Hour + time.Second)
	_, _, err = f.svc.RequestReset(client("10.4.9.9"), "rl@x.example")
	assert.NoError(t, err, "the window passes")
}
