package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
)

// An open WebSocket checks its session every few seconds; the checks must
// neither keep an unattended session alive nor miss a sign-out.
func TestCheckIsNotActivity(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "doc@x.example", actor.RoleStaff)
	sess, err := f.svc.Login(client("1.1.1.1"), "doc@x.example", testPassword)
	require.NoError(t, err)
	ctx := context.Background()

	for range 14 {
		f.clock.Advance(time.Minute)
		got, err := f.svc.Check(ctx, sess.Token)
		require.NoError(t, err)
		assert.Equal(t, sess.ID, got.ID)
	}
	f.clock.Advance(time.Minute + time.Second)
	_, err = f.svc.Check(ctx, sess.Token)
	require.ErrorIs(t, err, fault.ErrUnauthorized, "15 minutes of checks alone are not activity")
	_, err = f.svc.Authenticate(ctx, sess.Token)
	assert.ErrorIs(t, err, fault.ErrUnauthorized)

	// Real activity (Authenticate) still counts, and Check sees a sign-out.
	sess, err = f.svc.Login(client("1.1.1.1"), "doc@x.example", testPassword)
	require.NoError(t, err)
	f.clock.Advance(10 * time.Minute)
	_, err = f.svc.Authenticate(ctx, sess.Token)
	require.NoError(t, err)
	f.clock.Advance(10 * time.Minute)
	_, err = f.svc.Check(ctx, sess.Token)
	require.NoError(t, err)
	require.NoError(t, f.svc.Logout(f.admin, sess.ID))
	_, err = f.svc.Check(ctx, sess.Token)
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
	_, err = f.svc.Check(ctx, "")
	assert.ErrorIs(t, err, ErrNoSession)
}

func TestLoginRefusesOverlongPasswordBeforeHashing(t *testing.T) {
	f := newFixture(t, Options{MaxFailures: 1})
	f.user(t, "doc@x.example", actor.RoleStaff)
	_, err := f.svc.Login(client("1.1.1.1"), "doc@x.example", strings.Repeat("x", MaxPasswordLength+1))
	require.ErrorIs(t, err, fault.ErrInvalid)
	var fields fault.Fields
	require.ErrorAs(t, err, &fields)
	// Not counted as a failed guess: the account is not locked.
	_, err = f.svc.Login(client("1.1.1.1"), "doc@x.example", testPassword)
	assert.NoError(t, err)
}
