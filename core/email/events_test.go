package email_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/email/emailstub"
	"github.com/pfinni/pfinni/core/fault"
)

const providerSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// events is pfinni's side of Resend's webhooks as a test server: what
// POST /api/v1/email/events does, over real HTTP, with the stub signing
// like Resend (svix-* headers).
func (e *env) events(t *testing.T, svc *email.Service) (*emailstub.Server, string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, err := svc.ReceiveProviderEvent(r.Context(), body, r.Header)
		switch {
		case err == nil:
			w.WriteHeader(http.StatusOK)
		case errors.Is(err, fault.ErrInvalid):
			w.WriteHeader(http.StatusBadRequest)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	stub := emailstub.New()
	stub.SetWebhook(srv.URL, providerSecret)
	return stub, srv.URL
}

// A hard bounce or a complaint reported by the provider puts the address
// on the suppression list (audited, without the address), and nothing
// is sent to it again; a transient bounce or a delivery changes nothing;
// an event signed with another secret is refused.
func TestProviderBouncesAndComplaintsSuppressTheAddress(t *testing.T) {
	e := newEnv(t, func(o *email.Options) { o.ProviderWebhookSecret = providerSecret })
	stub, url := e.events(t, e.svc)
	ctx := context.Background()

	for _, tc := range []struct {
		event, to string
		want      int
	}{
		{"email.bounced", "Hard@Practice.example", http.StatusOK},
		{"email.complained", "annoyed@practice.example", http.StatusOK},
		{"email.delivered", "fine@practice.example", http.StatusOK},
	} {
		code, err := stub.SendEvent(ctx, tc.event, tc.to)
		require.NoError(t, err)
		assert.Equal(t, tc.want, code, tc.event)
	}
	code, err := stub.SendEvent(ctx, "email.bounced", "hard@practice.example")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "the same bounce again is fine")

	list, err := e.svc.Suppressions(e.sys)
	require.NoError(t, err)
	got := map[string]string{}
	for _, s := range list {
		got[s.Address] = s.Reason
	}
	assert.Equal(t, map[string]string{"hard@practice.example": "bounced", "annoyed@practice.example": "complained"}, got)

	forged := emailstub.New()
	forged.SetWebhook(url, "whsec_"+strings.Repeat("A", 43)+"=")
	code, err = forged.SendEvent(ctx, "email.bounced", "victim@practice.example")
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, code, "another secret's signature is refused")
	ok, err := e.svc.Suppressed(ctx, "victim@practice.example")
	require.NoError(t, err)
	assert.False(t, ok)

	// Nothing is sent to a suppressed address any more.
	u := e.user(t, "hard@practice.example", "staff")
	tok, sent, err := e.auth.RequestReset(ctx, u.Email)
	require.NoError(t, err)
	require.True(t, sent)
	require.NoError(t, e.svc.QueueLink(e.sys, tok))
	e.waitJobs(t)
	assert.Empty(t, e.stub.Messages(), "the bounced address gets nothing")

	page, err := e.audit.List(e.sys, audit.Filter{Action: "email.suppress"})
	require.NoError(t, err)
	assert.Len(t, page.Items, 3)
	for _, ev := range page.Items {
		assert.NotContains(t, ev.Detail, "@", "no address in the audit trail")
	}
}

// Bodies without a valid signature, too large, malformed or arriving
// while no secret is set are refused with the error the API maps.
func TestProviderEventRefusals(t *testing.T) {
	e := newEnv(t, func(o *email.Options) { o.ProviderWebhookSecret = providerSecret })
	ctx := context.Background()
	_, err := e.svc.ReceiveProviderEvent(ctx, []byte(`{"type":"email.bounced"}`), http.Header{})
	assert.ErrorIs(t, err, fault.ErrInvalid, "unsigned")
	_, err = e.svc.ReceiveProviderEvent(ctx, make([]byte, email.MaxEventBody+1), http.Header{})
	assert.ErrorIs(t, err, fault.ErrTooLarge)
	wh, err := standardwebhooks.NewWebhook(providerSecret)
	require.NoError(t, err)
	body := []byte(`not json`)
	now := time.Now()
	sig, err := wh.Sign("msg_1", now, body)
	require.NoError(t, err)
	h := http.Header{"Svix-Id": {"msg_1"}, "Svix-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Svix-Signature": {sig}}
	_, err = e.svc.ReceiveProviderEvent(ctx, body, h)
	assert.ErrorIs(t, err, fault.ErrInvalid, "signed but not an event")
	stale := http.Header{"Svix-Id": {"msg_1"}, "Svix-Timestamp": {strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)}, "Svix-Signature": {sig}}
	_, err = e.svc.ReceiveProviderEvent(ctx, body, stale)
	assert.ErrorIs(t, err, fault.ErrInvalid, "an hour-old timestamp is refused (replay)")

	off := newEnv(t)
	_, err = off.svc.ReceiveProviderEvent(ctx, []byte(`{}`), http.Header{})
	assert.ErrorIs(t, err, fault.ErrNotFound, "no secret: not set up")
}

// The suppression list is the admins' (and the system's): other roles
// and anonymous callers are refused, bad input is named field by field,
// and the service registers its jobs on a queue once.
func TestSuppressionListRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	staff := actor.With(ctx, actor.Actor{UserID: "u_staff", Role: actor.RoleStaff})
	assert.ErrorIs(t, e.svc.Unsuppress(staff, "a@practice.example"), fault.ErrForbidden)
	_, err := e.svc.Suppressions(ctx)
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
	for name, in := range map[string][2]string{
		"not an address": {"nobody", "bounced"},
		"unknown reason": {"a@practice.example", "annoying"},
	} {
		assert.ErrorIs(t, e.svc.Suppress(e.sys, in[0], in[1]), fault.ErrInvalid, name)
	}
	require.NoError(t, e.svc.Suppress(e.sys, "twice@practice.example", ""))
	require.NoError(t, e.svc.Suppress(e.sys, "twice@practice.example", "manual"), "suppressing again is fine")
	list, err := e.svc.Suppressions(e.sys)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "bounced", list[0].Reason, "the default reason")

	assert.Error(t, e.svc.Register(e.queue), "registered already")
}

// With the database gone, every call fails with its operation named
// (and nothing is suppressed or sent); a provider event is not
// acknowledged, so Resend sends it again later.
func TestDatabaseFailuresAreReported(t *testing.T) {
	e := newEnv(t, func(o *email.Options) { o.ProviderWebhookSecret = providerSecret })
	stub, _ := e.events(t, e.svc)
	require.NoError(t, e.db.Close())
	ctx := context.Background()
	me := actor.With(ctx, actor.Actor{UserID: "u_1", Role: actor.RoleAdmin})
	for name, call := range map[string]func() error{
		"suppress":     func() error { return e.svc.Suppress(e.sys, "a@practice.example", "bounced") },
		"unsuppress":   func() error { return e.svc.Unsuppress(e.sys, "a@practice.example") },
		"suppressions": func() error { _, err := e.svc.Suppressions(e.sys); return err },
		"suppressed":   func() error { _, err := e.svc.Suppressed(ctx, "a@practice.example"); return err },
		"preferences":  func() error { _, err := e.svc.Preferences(me); return err },
		"counts":       func() error { _, err := e.svc.DigestCounts(e.sys); return err },
	} {
		err := call()
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), "a@practice.example", "%s: no address in the error", name)
	}
	code, err := stub.SendEvent(ctx, "email.bounced", "a@practice.example")
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, code, "not acknowledged: the provider retries")
}
