package email_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// With no sender, e-mail is off: an invitation returns its link for the
// admin, nothing is queued, and a reset request issues nothing.
func TestEmailOff(t *testing.T) {
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}})
	q := jobs.New(db, jobs.Options{Logger: quiet})
	svc := email.New(db, q, nil, au, log, email.Options{Logger: quiet})
	assert.False(t, svc.Enabled())
	var none *email.Service
	assert.False(t, none.Enabled())
	sys := actor.System(context.Background())
	u, err := au.CreateUser(sys, auth.NewUser{Email: "x@practice.example", Name: "X", Role: actor.RoleStaff, Password: testPassword})
	require.NoError(t, err)

	tok, sent, err := svc.Invite(sys, au, u.ID)
	require.NoError(t, err)
	assert.False(t, sent)
	assert.NotEmpty(t, tok.Token, "the admin is shown the link")
	assert.ErrorIs(t, svc.QueueLink(sys, tok), email.ErrOff)
	require.NoError(t, svc.ResetPassword(context.Background(), au, "x@practice.example"))
	_, _, err = svc.Invite(sys, au, "missing")
	assert.ErrorIs(t, err, fault.ErrNotFound)
	_, total, err := jobs.NewAdmin(db, nil).List(context.Background(), jobs.Filter{Kind: email.KindSend})
	require.NoError(t, err)
	assert.Zero(t, total)

	_, err = svc.Preferences(context.Background())
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
	_, err = svc.SetPreferences(sys, email.Preferences{})
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
	_, err = svc.Suppressions(context.Background())
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
	staff := actor.With(context.Background(), actor.Actor{UserID: u.ID, Role: actor.RoleStaff})
	assert.ErrorIs(t, svc.Unsuppress(staff, "x@practice.example"), fault.ErrForbidden)
	assert.ErrorIs(t, svc.Suppress(sys, "not an address", ""), fault.ErrInvalid)
}

// A provider that cannot be reached is retried; a message to a user who
// was disabled meanwhile is not sent.
func TestUnreachableProviderAndDisabledUser(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "gone@practice.example", actor.RoleStaff)
	tok, err := e.auth.Invite(e.sys, u.ID)
	require.NoError(t, err)
	disabled := true
	_, err = e.auth.UpdateUser(e.sys, u.ID, auth.UserPatch{Disabled: &disabled})
	require.NoError(t, err)
	require.NoError(t, e.svc.QueueLink(e.sys, tok))
	js := e.waitJobs(t)
	assert.Equal(t, jobs.Succeeded, js[0].State)
	assert.Empty(t, e.stub.Messages(), "a disabled user gets nothing")

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	r, err := email.NewResend("re_x", closed.URL, "p@practice.example")
	require.NoError(t, err)
	_, err = r.Send(context.Background(), email.Message{To: "a@practice.example", Subject: "s", Text: "t"}, "k")
	require.Error(t, err)
	assert.NotErrorIs(t, err, email.ErrRejected, "unreachable is worth a retry")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = r.Send(ctx, email.Message{To: "a@practice.example", Subject: "s", Text: "t"}, "k")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = email.NewResend("re_x", "http://[::1", "p@practice.example")
	assert.Error(t, err)
}

// Retry-After may be an HTTP date.
func TestRetryAfterAsADate(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer hs.Close()
	r, err := email.NewResend("re_x", hs.URL, "p@practice.example")
	require.NoError(t, err)
	_, err = r.Send(context.Background(), email.Message{To: "a@practice.example", Subject: "s", Text: "t"}, "k")
	var rl *email.RateLimitedError
	require.ErrorAs(t, err, &rl)
	assert.Greater(t, rl.RetryAfter, 60*time.Second)
	assert.Contains(t, rl.Error(), "rate limiting")
	assert.Contains(t, (&email.StatusError{Status: 502}).Error(), "502")
	assert.NotErrorIs(t, &email.StatusError{Status: 502}, email.ErrRejected)
}
