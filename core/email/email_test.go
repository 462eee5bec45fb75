package email_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
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
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var quiet = slog.New(slog.DiscardHandler)

const testPassword = "correct-horse-battery-staple-42"

type env struct {
	db    *store.DB
	audit *audit.Log
	auth  *auth.Service
	queue *jobs.Queue
	admin *jobs.Admin
	stub  *emailstub.Server
	svc   *email.Service
	sys   context.Context
}

// newEnv runs the e-mail service on a real database and job queue,
// sending through the Resend adapter to the stub.
func newEnv(t *testing.T, opts ...func(*email.Options)) *env {
	t.Helper()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 1 << 20})
	stub := emailstub.New()
	srv := httptest.NewServer(stub)
	t.Cleanup(srv.Close)
	sender, err := email.NewResend("re_test_key", srv.URL, "pfinni <pfinni@practice.example>")
	require.NoError(t, err)
	q := jobs.New(db, jobs.Options{Instance: "email-test", Workers: 2, Lease: 5 * time.Second, PollInterval: 50 * time.Millisecond,
		Backoff: jobs.ExponentialBackoff(20*time.Millisecond, 200*time.Millisecond), Logger: quiet})
	o := email.Options{BaseURL: "https://pfinni.practice.example/app", Logger: quiet}
	for _, f := range opts {
		f(&o)
	}
	svc := email.New(db, q, sender, au, log, o)
	require.NoError(t, svc.Register(q))
	require.NoError(t, q.Start(context.Background()))
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	return &env{db: db, audit: log, auth: au, queue: q, admin: jobs.NewAdmin(db, log), stub: stub, svc: svc,
		sys: actor.System(context.Background())}
}

func (e *env) user(t *testing.T, addr string, role actor.Role) auth.User {
	t.Helper()
	u, err := e.auth.CreateUser(e.sys, auth.NewUser{Email: addr, Name: "Test User", Role: role, Password: testPassword})
	require.NoError(t, err)
	return u
}

// waitJobs waits until no e-mail job is queued, running or waiting for
// a retry, and returns them all.
func (e *env) waitJobs(t *testing.T) []jobs.Job {
	t.Helper()
	var all []jobs.Job
	require.Eventually(t, func() bool {
		items, _, err := e.admin.List(context.Background(), jobs.Filter{Kind: email.KindSend, Limit: 100})
		require.NoError(t, err)
		all = items
		for _, j := range all {
			if j.State != jobs.Succeeded && j.State != jobs.Dead {
				return false
			}
		}
		return len(all) > 0
	}, 30*time.Second, 50*time.Millisecond)
	return all
}

var linkPattern = regexp.MustCompile(`https://pfinni\.practice\.example/app/set-password\?token=([A-Za-z0-9_%-]+)`)

func tokenOf(t *testing.T, m emailstub.Message) string {
	t.Helper()
	got := linkPattern.FindStringSubmatch(m.Text)
	require.NotNil(t, got, "no set-password link in the message")
	tok, err := url.QueryUnescape(got[1])
	require.NoError(t, err)
	return tok
}

// An invitation that first meets a 429 is retried no earlier than the
// provider's Retry-After, with the same idempotency key, and delivered
// exactly once; its link sets the password once and is refused the
// second time.
func TestInvitationAfterA429IsDeliveredOnceAndItsLinkWorksOnce(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "new.staff@practice.example", actor.RoleStaff)
	e.stub.FailNext(429, 1, 1)

	tok, err := e.auth.Invite(e.sys, u.ID)
	require.NoError(t, err)
	require.NoError(t, e.svc.QueueLink(e.sys, tok))
	// Queuing it again (a double click) is the same message.
	require.NoError(t, e.svc.QueueLink(e.sys, tok))

	js := e.waitJobs(t)
	require.Len(t, js, 1)
	assert.Equal(t, jobs.Succeeded, js[0].State)
	assert.Equal(t, 2, js[0].Attempts, "one 429, then delivered")

	reqs := e.stub.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, 429, reqs[0].Status)
	assert.Equal(t, 200, reqs[1].Status)
	assert.Equal(t, "email/invite/"+tok.ID, reqs[0].IdempotencyKey)
	assert.Equal(t, reqs[0].IdempotencyKey, reqs[1].IdempotencyKey, "a retry carries the same Idempotency-Key")
	assert.GreaterOrEqual(t, reqs[1].At.Sub(reqs[0].At), time.Second, "the retry waited for Retry-After (1 s), not the 20 ms backoff")

	msgs := e.stub.Messages()
	require.Len(t, msgs, 1, "delivered exactly once")
	m := msgs[0]
	assert.Equal(t, []string{"new.staff@practice.example"}, m.To)
	assert.Equal(t, "You are invited to pfinni", m.Subject)
	assert.Contains(t, m.HTML, "/set-password?token=")
	secret := tokenOf(t, m)
	assert.Equal(t, tok.Token, secret)

	// The token is stored hashed only, and the job holds no token or address.
	raw, err := store.Query[[]map[string]any](context.Background(), e.db, "SELECT * FROM password_token", nil)
	require.NoError(t, err)
	require.Len(t, raw, 1)
	for _, v := range raw[0] {
		assert.NotContains(t, toString(v), secret)
	}
	assert.NotContains(t, string(js[0].Args), secret)
	assert.NotContains(t, string(js[0].Args), "new.staff")

	// The link sets the password once.
	_, err = e.auth.SetPasswordWithToken(context.Background(), secret, "a-brand-new-password-77")
	require.NoError(t, err)
	_, err = e.auth.Login(context.Background(), "new.staff@practice.example", "a-brand-new-password-77")
	require.NoError(t, err)
	_, err = e.auth.SetPasswordWithToken(context.Background(), secret, "another-password-88-xyz")
	assert.ErrorIs(t, err, auth.ErrTokenInvalid, "a second use is refused")
	_, err = e.auth.Login(context.Background(), "new.staff@practice.example", "a-brand-new-password-77")
	assert.NoError(t, err, "the refused second use changed nothing")
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

// A 5xx is retried until delivered; a 4xx the provider refuses for good
// makes the job dead at once.
func TestServerErrorsAreRetriedAndRefusalsAreNot(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "staff@practice.example", actor.RoleStaff)
	e.stub.FailNext(503, 2, 0)
	tok, err := e.auth.Invite(e.sys, u.ID)
	require.NoError(t, err)
	require.NoError(t, e.svc.QueueLink(e.sys, tok))
	js := e.waitJobs(t)
	require.Len(t, js, 1)
	assert.Equal(t, jobs.Succeeded, js[0].State)
	assert.Equal(t, 3, js[0].Attempts)
	assert.Len(t, e.stub.Messages(), 1)

	e.stub.FailNext(422, 1, 0)
	tok2, err := e.auth.Invite(e.sys, u.ID)
	require.NoError(t, err)
	require.NoError(t, e.svc.QueueLink(e.sys, tok2))
	require.Eventually(t, func() bool {
		items, _, err := e.admin.List(context.Background(), jobs.Filter{State: jobs.Dead, Limit: 10})
		require.NoError(t, err)
		return len(items) == 1 && items[0].Attempts == 1
	}, 20*time.Second, 50*time.Millisecond)
	assert.Len(t, e.stub.Messages(), 1)
}

// An address on the suppression list (recorded after a bounce) is not
// sent to again; the refusal is logged and audited, and removing the
// address from the list lets the next message through.
func TestABouncedAddressIsNotSentToAgain(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "bouncy@practice.example", actor.RoleStaff)
	e.stub.Bounce("bouncy@practice.example")

	tok, ok, err := e.auth.RequestReset(context.Background(), "Bouncy@Practice.example")
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, e.svc.QueueLink(e.sys, tok))
	e.waitJobs(t)
	msgs := e.stub.Messages()
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].Bounced)
	assert.Equal(t, "Reset your pfinni password", msgs[0].Subject)

	// The admin records the bounce (API: POST /api/v1/email/suppressions).
	staff := actor.With(context.Background(), actor.Actor{UserID: u.ID, Role: actor.RoleStaff})
	assert.Error(t, e.svc.Suppress(staff, "bouncy@practice.example", "bounced"), "only admins manage the list")
	require.NoError(t, e.svc.Suppress(e.sys, "BOUNCY@practice.example", "bounced"))
	list, err := e.svc.Suppressions(e.sys)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "bouncy@practice.example", list[0].Address)

	tok2, ok, err := e.auth.RequestReset(context.Background(), "bouncy@practice.example")
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, e.svc.QueueLink(e.sys, tok2))
	js := e.waitJobs(t)
	for _, j := range js {
		assert.Equal(t, jobs.Succeeded, j.State)
	}
	assert.Len(t, e.stub.Messages(), 1, "nothing more was sent to the bounced address")
	assert.Len(t, e.stub.Requests(), 1, "the provider was not even asked")
	rows, err := store.Query[[]struct {
		Outcome string `json:"outcome"`
	}](context.Background(), e.db, "SELECT outcome, created_at FROM email_log ORDER BY created_at", nil)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "sent", rows[0].Outcome)
	assert.Equal(t, "suppressed", rows[1].Outcome)
	events, err := store.Query[[]string](context.Background(), e.db, "SELECT VALUE action FROM audit WHERE action = 'email.suppressed'", nil)
	require.NoError(t, err)
	assert.Len(t, events, 1)

	require.NoError(t, e.svc.Unsuppress(e.sys, "bouncy@practice.example"))
	tok3, _, err := e.auth.RequestReset(context.Background(), "bouncy@practice.example")
	require.NoError(t, err)
	require.NoError(t, e.svc.QueueLink(e.sys, tok3))
	e.waitJobs(t)
	assert.Len(t, e.stub.Messages(), 2)
}

// A reset for an address nobody uses issues nothing and sends nothing;
// requests beyond the hourly limit are refused alike for known and
// unknown addresses.
func TestResetOfAnUnknownAddressSendsNothingAndIsRateLimited(t *testing.T) {
	e := newEnv(t)
	e.user(t, "known@practice.example", actor.RoleStaff)
	ctx := actor.With(context.Background(), actor.Actor{IP: "192.0.2.7", RequestID: "t"})
	require.NoError(t, e.svc.ResetPassword(ctx, e.auth, "nobody@practice.example"))
	require.NoError(t, e.svc.ResetPassword(ctx, e.auth, "known@practice.example"))
	e.waitJobs(t)
	require.Len(t, e.stub.Messages(), 1)
	assert.Equal(t, []string{"known@practice.example"}, e.stub.Messages()[0].To)

	for _, addr := range []string{"nobody@practice.example", "known@practice.example"} {
		var last error
		for range auth.ResetsPerHour + 1 {
			last = e.svc.ResetPassword(actor.With(context.Background(), actor.Actor{IP: "198.51.100.9"}), e.auth, addr)
		}
		assert.ErrorIs(t, last, auth.ErrResetThrottled, addr)
	}
}

// The daily digest goes to the admins and staff who opted in, carries
// counts and a link only, once per day; auditors cannot opt in.
// No patient name, birth date, phone or e-mail of a seeded patient
// appears in any e-mail the service sent (invitations, resets, digests).
func TestDigestAndEveryEmailCarryNoPatientData(t *testing.T) {
	unread := unreadAlerts{}
	e := newEnv(t, func(o *email.Options) { o.Alerts = unread })
	patients, err := patient.New(context.Background(), e.db, e.audit, patient.WithLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { _ = patients.Close() })
	require.NoError(t, patient.Seed(e.sys, patients, 120, 7))

	admin := e.user(t, "boss@practice.example", actor.RoleAdmin)
	staff := e.user(t, "desk@practice.example", actor.RoleStaff)
	unread[admin.ID], unread[staff.ID] = 7, 2 // each recipient's own unread alerts (core/alerts)
	auditor := e.user(t, "hipaa@practice.example", actor.RoleAuditor)
	off := e.user(t, "quiet@practice.example", actor.RoleStaff)
	as := func(u auth.User) context.Context {
		return actor.With(context.Background(), actor.Actor{UserID: u.ID, Role: u.Role})
	}
	for _, u := range []auth.User{admin, staff} {
		p, err := e.svc.SetPreferences(as(u), email.Preferences{DailyDigest: true})
		require.NoError(t, err)
		assert.True(t, p.DailyDigest)
	}
	_, err = e.svc.SetPreferences(as(auditor), email.Preferences{DailyDigest: true})
	assert.Error(t, err, "auditors do not get patient figures")
	p, err := e.svc.Preferences(as(off))
	require.NoError(t, err)
	assert.False(t, p.DailyDigest, "the digest is opt-in")

	want, err := e.svc.DigestCounts(context.Background())
	require.NoError(t, err)
	require.Positive(t, want.Onboarding)

	tick := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	for range 2 { // the same day twice: one digest each
		_, err = e.queue.Enqueue(e.sys, email.KindDigest, map[string]any{"cron": jobs.CronArgs{Schedule: "email-digest", Tick: tick}}, jobs.EnqueueOptions{})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return len(e.stub.Messages()) >= 2 }, 30*time.Second, 50*time.Millisecond)
		e.waitJobs(t)
	}
	msgs := e.stub.Messages()
	require.Len(t, msgs, 2)
	var to []string
	for _, m := range msgs {
		to = append(to, m.To[0])
		n := map[string]int{"boss@practice.example": 7, "desk@practice.example": 2}[m.To[0]]
		assert.Contains(t, m.Text, strconv.Itoa(n)+" unread alerts")
		assert.Contains(t, m.HTML, strconv.Itoa(n)+" unread alerts")
		assert.Contains(t, m.Text, "pfinni summary for 2026-12-03")
		assert.Contains(t, m.Text, strconv.Itoa(want.Onboarding)+" patients in onboarding")
		assert.Contains(t, m.Text, "https://pfinni.practice.example/app/")
	}
	assert.ElementsMatch(t, []string{"boss@practice.example", "desk@practice.example"}, to)

	// Add an invitation and a reset, then search every message.
	tok, err := e.auth.Invite(e.sys, off.ID)
	require.NoError(t, err)
	require.NoError(t, e.svc.QueueLink(e.sys, tok))
	require.NoError(t, e.svc.ResetPassword(context.Background(), e.auth, "desk@practice.example"))
	require.Eventually(t, func() bool { return len(e.stub.Messages()) == 4 }, 30*time.Second, 50*time.Millisecond)

	page, err := patients.List(e.sys, patient.Filter{Limit: 200})
	require.NoError(t, err)
	require.Len(t, page.Items, 120)
	for _, m := range e.stub.Messages() {
		all := m.Subject + "\n" + m.Text + "\n" + m.HTML
		for _, pt := range page.Items {
			for _, v := range []string{pt.FirstName + " " + pt.LastName, pt.DateOfBirth, pt.Phone, pt.Email, pt.MRN} {
				if v != "" {
					assert.NotContains(t, all, v, "patient data in the %q e-mail", m.Subject)
				}
			}
			for _, name := range []string{pt.FirstName, pt.LastName} {
				assert.NotRegexp(t, `\b`+regexp.QuoteMeta(name)+`\b`, all, "a patient name in the %q e-mail", m.Subject)
			}
		}
	}
}

// unreadAlerts counts unread alerts by user id (core/alerts is tested
// against the database in its own package).
type unreadAlerts map[string]int

func (u unreadAlerts) UnreadFor(_ context.Context, user string) (int, error) { return u[user], nil }
