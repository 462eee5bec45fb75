package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/email/emailstub"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
)

type emailEnv struct {
	srv  *Server
	auth *auth.Service
	stub *emailstub.Server
}

// newEmailEnv serves the API with e-mail through the Resend adapter to
// the stub (on) or without a sender (off), on a real database and queue.
func newEmailEnv(t *testing.T, on bool, opts ...func(*email.Options)) *emailEnv {
	t.Helper()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 10_000})
	stub := emailstub.New()
	var sender email.Sender
	if on {
		hs := httptest.NewServer(stub)
		t.Cleanup(hs.Close)
		r, err := email.NewResend("re_test", hs.URL, "pfinni <pfinni@practice.example>")
		require.NoError(t, err)
		sender = r
	}
	q := jobs.New(db, jobs.Options{Instance: "api-email", PollInterval: 50 * time.Millisecond,
		Backoff: jobs.ExponentialBackoff(20*time.Millisecond, 200*time.Millisecond), Logger: quiet})
	o := email.Options{BaseURL: "https://pfinni.practice.example", Logger: quiet}
	for _, f := range opts {
		f(&o)
	}
	svc := email.New(db, q, sender, au, log, o)
	require.NoError(t, svc.Register(q))
	require.NoError(t, q.Start(context.Background()))
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	cfg := testConfig(t)
	cfg.PublicURL = "https://pfinni.practice.example"
	_, err := au.CreateUser(actor.System(context.Background()), auth.NewUser{Email: "admin@x.example", Name: "Admin", Role: actor.RoleAdmin, Password: apiTestPassword})
	require.NoError(t, err)
	return &emailEnv{srv: New(Deps{Logger: quiet, Config: cfg, DB: db, Services: Services{Auth: au, Email: svc}}), auth: au, stub: stub}
}

func (e *emailEnv) adminToken(t *testing.T) []string {
	t.Helper()
	sess, err := e.auth.Login(context.Background(), "admin@x.example", apiTestPassword)
	require.NoError(t, err)
	return []string{"Authorization", "Bearer " + sess.Token}
}

var setPasswordLink = regexp.MustCompile(`https://pfinni\.practice\.example/set-password\?token=([A-Za-z0-9_%-]+)`)

// An admin creates a user with invite: true; the stub receives the
// invitation (no patient data: a link only), the link sets the password
// once, and a second use is refused.
func TestInviteThroughTheAPISetsThePasswordOnce(t *testing.T) {
	e := newEmailEnv(t, true)
	app := e.srv.App()
	res, body := do(t, app, "POST", "/api/v1/users",
		`{"email":"invitee@practice.example","name":"New Person","role":"staff","invite":true}`, e.adminToken(t)...)
	require.Equal(t, 201, res.StatusCode, string(body))
	var out struct {
		ID     string     `json:"id"`
		Invite InviteInfo `json:"invite"`
	}
	require.NoError(t, json.Unmarshal(body, &out))
	assert.True(t, out.Invite.Sent)
	assert.Empty(t, out.Invite.URL, "the link goes by e-mail only")
	assert.WithinDuration(t, time.Now().Add(24*time.Hour), out.Invite.ExpiresAt, time.Minute)

	require.Eventually(t, func() bool { return len(e.stub.Messages()) == 1 }, 20*time.Second, 50*time.Millisecond)
	m := e.stub.Messages()[0]
	assert.Equal(t, []string{"invitee@practice.example"}, m.To)
	assert.Equal(t, "email/invite/", m.IdempotencyKey[:len("email/invite/")])
	got := setPasswordLink.FindStringSubmatch(m.Text)
	require.NotNil(t, got, m.Text)
	token, err := url.QueryUnescape(got[1])
	require.NoError(t, err)

	res, body = do(t, app, "POST", "/api/v1/auth/password/set", `{"token":"`+token+`","password":"short"}`)
	assert.Equal(t, 422, res.StatusCode, "a password the rules refuse does not use the link up: %s", body)
	res, body = do(t, app, "POST", "/api/v1/auth/password/set", `{"token":"`+token+`","password":"my own long password 1"}`)
	require.Equal(t, 204, res.StatusCode, string(body))
	res, body = do(t, app, "POST", "/api/v1/auth/login", `{"email":"invitee@practice.example","password":"my own long password 1"}`)
	require.Equal(t, 200, res.StatusCode, string(body))
	res, body = do(t, app, "POST", "/api/v1/auth/password/set", `{"token":"`+token+`","password":"someone elses password 2"}`)
	assert.Equal(t, 400, res.StatusCode, "a second use is refused: %s", body)
	res, _ = do(t, app, "POST", "/api/v1/auth/login", `{"email":"invitee@practice.example","password":"someone elses password 2"}`)
	assert.Equal(t, 401, res.StatusCode)
}

// With e-mail off, the admin is shown the one-time link instead.
func TestInviteWithEmailOffShowsTheLinkToTheAdmin(t *testing.T) {
	e := newEmailEnv(t, false)
	app := e.srv.App()
	res, body := do(t, app, "POST", "/api/v1/users",
		`{"email":"invitee@practice.example","name":"New Person","role":"staff","invite":true}`, e.adminToken(t)...)
	require.Equal(t, 201, res.StatusCode, string(body))
	var out struct {
		ID     string     `json:"id"`
		Invite InviteInfo `json:"invite"`
	}
	require.NoError(t, json.Unmarshal(body, &out))
	assert.False(t, out.Invite.Sent)
	got := setPasswordLink.FindStringSubmatch(out.Invite.URL)
	require.NotNil(t, got, out.Invite.URL)
	token, err := url.QueryUnescape(got[1])
	require.NoError(t, err)
	res, body = do(t, app, "POST", "/api/v1/auth/password/set", `{"token":"`+token+`","password":"my own long password 1"}`)
	require.Equal(t, 204, res.StatusCode, string(body))

	// Inviting again (a new link) works for an existing user.
	res, body = do(t, app, "POST", "/api/v1/users/"+out.ID+"/invite", "", e.adminToken(t)...)
	require.Equal(t, 202, res.StatusCode, string(body))
	assert.Empty(t, e.stub.Messages())
}

// A reset asked for an unknown address answers exactly like one for a
// known address; only the known one gets an e-mail.
func TestForgotPasswordAnswersTheSameForUnknownAddresses(t *testing.T) {
	e := newEmailEnv(t, true)
	app := e.srv.App()
	_, err := e.auth.CreateUser(actor.System(context.Background()), auth.NewUser{Email: "known@practice.example", Name: "Known", Role: actor.RoleStaff, Password: apiTestPassword})
	require.NoError(t, err)
	resKnown, bodyKnown := do(t, app, "POST", "/api/v1/auth/password/forgot", `{"email":"known@practice.example"}`)
	resUnknown, bodyUnknown := do(t, app, "POST", "/api/v1/auth/password/forgot", `{"email":"unknown@practice.example"}`)
	assert.Equal(t, 202, resKnown.StatusCode)
	assert.Equal(t, resKnown.StatusCode, resUnknown.StatusCode)
	assert.Equal(t, string(bodyKnown), string(bodyUnknown))
	assert.Equal(t, resKnown.Header.Get("Content-Type"), resUnknown.Header.Get("Content-Type"))

	require.Eventually(t, func() bool { return len(e.stub.Messages()) == 1 }, 20*time.Second, 50*time.Millisecond)
	m := e.stub.Messages()[0]
	assert.Equal(t, []string{"known@practice.example"}, m.To)
	got := setPasswordLink.FindStringSubmatch(m.Text)
	require.NotNil(t, got)
	token, err := url.QueryUnescape(got[1])
	require.NoError(t, err)
	res, body := do(t, app, "POST", "/api/v1/auth/password/set", `{"token":"`+token+`","password":"a fresh long password 3"}`)
	require.Equal(t, 204, res.StatusCode, string(body))

	// A browser request from another site is refused (login CSRF).
	res, _ = do(t, app, "POST", "/api/v1/auth/password/forgot", `{"email":"known@practice.example"}`, "Origin", "https://evil.example")
	assert.Equal(t, 403, res.StatusCode)
}

// The suppression list and preferences through the API.
func TestSuppressionsAndPreferencesAPI(t *testing.T) {
	e := newEmailEnv(t, true)
	app := e.srv.App()
	adm := e.adminToken(t)
	res, body := do(t, app, "POST", "/api/v1/email/suppressions", `{"email":"gone@practice.example","reason":"bounced"}`, adm...)
	require.Equal(t, 204, res.StatusCode, string(body))
	res, body = do(t, app, "POST", "/api/v1/email/suppressions", `{"email":"gone@practice.example","reason":"lost"}`, adm...)
	assert.Equal(t, 422, res.StatusCode, string(body))
	res, body = do(t, app, "GET", "/api/v1/email/suppressions", "", adm...)
	require.Equal(t, 200, res.StatusCode)
	assert.Contains(t, string(body), `"address":"gone@practice.example"`)
	res, _ = do(t, app, "DELETE", "/api/v1/email/suppressions/"+url.PathEscape("gone@practice.example"), "", adm...)
	require.Equal(t, 204, res.StatusCode)
	_, body = do(t, app, "GET", "/api/v1/email/suppressions", "", adm...)
	assert.Contains(t, string(body), `"total":0`)

	res, body = do(t, app, "PUT", "/api/v1/email/preferences", `{"daily_digest":true}`, adm...)
	require.Equal(t, 200, res.StatusCode, string(body))
	_, body = do(t, app, "GET", "/api/v1/email/preferences", "", adm...)
	assert.JSONEq(t, `{"daily_digest":true}`, string(body))
}
