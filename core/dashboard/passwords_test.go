package dashboard_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/dashboard"
	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/email/emailstub"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
)

var pageLink = regexp.MustCompile(`/set-password\?token=([A-Za-z0-9_%-]+)`)

func mailOn(stub *emailstub.Server) func(*fixture, *store.DB) dashboard.Mailer {
	return func(f *fixture, db *store.DB) dashboard.Mailer {
		hs := httptest.NewServer(stub)
		f.t.Cleanup(hs.Close)
		sender, err := email.NewResend("re_test", hs.URL, "pfinni <p@practice.example>")
		require.NoError(f.t, err)
		quiet := slog.New(slog.DiscardHandler)
		q := jobs.New(db, jobs.Options{PollInterval: 50 * time.Millisecond, Logger: quiet})
		svc := email.New(db, q, sender, f.auth, f.audit, email.Options{BaseURL: "https://pfinni.practice.example", Logger: quiet})
		require.NoError(f.t, svc.Register(q))
		require.NoError(f.t, q.Start(context.Background()))
		f.t.Cleanup(func() { _ = q.Stop(context.Background()) })
		return svc
	}
}

func tokenIn(t *testing.T, s string) string {
	t.Helper()
	m := pageLink.FindStringSubmatch(html.UnescapeString(s))
	require.NotNil(t, m, "no set-password link")
	tok, err := url.QueryUnescape(m[1])
	require.NoError(t, err)
	return tok
}

// The sign-in page links to "forgot password"; the form answers the same
// for an unknown address as for a known one; the e-mailed link opens the
// set-password page, sets the password once, and is refused after.
func TestForgotAndSetPasswordPages(t *testing.T) {
	stub := emailstub.New()
	f := newFixture(t, fixtureOpts{mail: mailOn(stub)})
	assert.Contains(t, f.client().get("/login").body, `id="forgot-link"`)
	assert.Equal(t, http.StatusOK, f.client().get("/forgot-password").status)

	known := f.client().do(http.MethodPost, "/forgot-password", url.Values{"email": {staffEmail}})
	unknown := f.client().do(http.MethodPost, "/forgot-password", url.Values{"email": {"nobody@x.example"}})
	require.Equal(t, http.StatusAccepted, known.status, known.body)
	assert.Equal(t, known.status, unknown.status)
	assert.Equal(t, known.body, unknown.body, "the answer does not tell whether the address exists")
	assert.Contains(t, known.body, `id="forgot-sent"`)
	assert.Equal(t, http.StatusForbidden, f.client().do(http.MethodPost, "/forgot-password", url.Values{"email": {staffEmail}},
		"Origin", "https://evil.example").status, "refused from another site")

	require.Eventually(t, func() bool { return len(stub.Messages()) == 1 }, 20*time.Second, 50*time.Millisecond)
	tok := tokenIn(t, stub.Messages()[0].Text)

	page := f.client().get("/set-password?token=" + url.QueryEscape(tok))
	require.Equal(t, http.StatusOK, page.status)
	assert.Equal(t, "no-referrer", page.header.Get("Referrer-Policy"))
	assert.Contains(t, page.body, `name="token"`)

	r := f.client().do(http.MethodPost, "/set-password", url.Values{"token": {tok}, "password": {"a long new password 1"}, "confirm": {"a different one 2"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	r = f.client().do(http.MethodPost, "/set-password", url.Values{"token": {tok}, "password": {"short"}, "confirm": {"short"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	r = f.client().do(http.MethodPost, "/set-password", url.Values{"token": {tok}, "password": {"a long new password 1"}, "confirm": {"a long new password 1"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.Equal(t, "/login?why=password", r.header.Get("Location"))
	assert.Contains(t, f.client().get("/login?why=password").body, `id="password-set"`)
	c := f.client()
	r = c.do(http.MethodPost, "/login", url.Values{"email": {staffEmail}, "password": {"a long new password 1"}})
	assert.Equal(t, http.StatusSeeOther, r.status, "the new password works")

	r = f.client().do(http.MethodPost, "/set-password", url.Values{"token": {tok}, "password": {"another new password 3"}, "confirm": {"another new password 3"}})
	assert.Equal(t, http.StatusBadRequest, r.status, "a second use is refused")
	assert.Contains(t, r.body, `id="set-error"`)
}

// The Users page invites by e-mail; with e-mail off it shows the
// one-time link to the admin instead, and that link works.
func TestUsersPageInvites(t *testing.T) {
	stub := emailstub.New()
	f := newFixture(t, fixtureOpts{mail: mailOn(stub)})
	admin := f.client().login(adminEmail)
	assert.Contains(t, admin.get("/admin/users").body, `id="nu-invite"`)
	r := admin.post("/admin/users", url.Values{"name": {"Ivy Invitee"}, "email": {"ivy@x.example"}, "role": {"staff"}, "invite": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.Contains(t, r.header.Get("Location"), "notice=invited")
	require.Eventually(t, func() bool { return len(stub.Messages()) == 1 }, 20*time.Second, 50*time.Millisecond)
	assert.Equal(t, []string{"ivy@x.example"}, stub.Messages()[0].To)

	off := newFixture(t, fixtureOpts{mail: func(*fixture, *store.DB) dashboard.Mailer { return nil }})
	admin = off.client().login(adminEmail)
	r = admin.post("/admin/users", url.Values{"name": {"Otto Offline"}, "email": {"otto@x.example"}, "role": {"staff"}, "invite": {"1"}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, `id="invite-link"`)
	tok := tokenIn(t, r.body)
	r = off.client().do(http.MethodPost, "/set-password", url.Values{"token": {tok}, "password": {"otto's own password 1"}, "confirm": {"otto's own password 1"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.Contains(t, off.client().get("/forgot-password").body, "E-mail is not set up")
}

// Each user turns the daily summary on or off for themselves; auditors
// cannot; the settings page shows the e-mail settings with the key masked.
func TestEmailPreferencesPage(t *testing.T) {
	stub := emailstub.New()
	f := newFixture(t, fixtureOpts{mail: mailOn(stub)})
	staff := f.client().login(staffEmail)
	r := staff.get("/account/email")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.NotContains(t, r.body, "checked")
	r = staff.post("/account/email", url.Values{"daily_digest": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	r = staff.get("/account/email?saved=1")
	assert.Contains(t, r.body, `id="prefs-saved"`)
	assert.Regexp(t, `id="daily-digest"\s+checked`, r.body)
	r = staff.post("/account/email", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.status)
	assert.NotRegexp(t, `id="daily-digest"\s+checked`, staff.get("/account/email").body)

	auditor := f.client().login(auditorEmail)
	assert.NotContains(t, auditor.get("/account/email").body, `id="daily-digest"`)
	assert.Equal(t, http.StatusUnprocessableEntity, auditor.post("/account/email", url.Values{"daily_digest": {"1"}}).status)
	assert.Equal(t, http.StatusSeeOther, f.client().get("/account/email").status, "signed out: to the sign-in page")
}
