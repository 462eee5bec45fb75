package auth

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/dbengine"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestLoginAndAuthenticate(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user(t, "doc@x.example", actor.RoleStaff)
	f.ev.reset()

	sess, err := f.svc.Login(client("192.0.2.7"), " DOC@x.example ", testPassword)
	require.NoError(t, err)
	now := f.clock.Now()
	assert.Len(t, sess.Token, 43)
	assert.Len(t, sess.CSRFToken, 43)
	assert.NotEqual(t, sess.Token, sess.CSRFToken)
	assert.Equal(t, u.ID, sess.User.ID)
	assert.Equal(t, actor.RoleStaff, sess.User.Role)
	assert.Equal(t, now.Add(12*time.Hour), sess.ExpiresAt)
	assert.Equal(t, 15*time.Minute, sess.IdleTimeout)
	require.NotNil(t, sess.User.LastLoginAt)
	assert.Equal(t, now, *sess.User.LastLoginAt)

	// Only the token's hash is stored.
	rows, err := store.Query[[]sessionRow](context.Background(), f.db, "SELECT * FROM session", nil)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, tokenHash(sess.Token), rows[0].TokenHash)
	assert.NotContains(t, rows[0].TokenHash, sess.Token)

	got, err := f.svc.Authenticate(context.Background(), sess.Token)
	require.NoError(t, err)
	assert.Empty(t, got.Token, "the token is never handed out again")
	assert.Equal(t, sess.ID, got.ID)
	assert.Equal(t, sess.CSRFToken, got.CSRFToken)

	// A second instance reads it from the database.
	other := New(f.db, f.ev, Options{Hash: fastHash, Now: f.clock.Now})
	got2, err := other.Authenticate(context.Background(), sess.Token)
	require.NoError(t, err)
	assert.Equal(t, got.ID, got2.ID)
	assert.Equal(t, got.User.Email, got2.User.Email)
	assert.Equal(t, sess.ExpiresAt, got2.ExpiresAt)

	a := got.Actor(actor.Actor{RequestID: "r1", IP: "192.0.2.7"})
	assert.Equal(t, actor.Actor{UserID: u.ID, Email: u.Email, Role: actor.RoleStaff, RequestID: "r1", IP: "192.0.2.7", SessionID: sess.ID}, a)

	evs := f.ev.all()
	require.Len(t, evs, 1)
	assert.Equal(t, audit.Event{Actor: u.ID, Role: "staff", Action: "auth.login", Resource: "user", Record: u.ID,
		Outcome: audit.OutcomeSuccess, RequestID: "req-192.0.2.7", IP: "192.0.2.7"}, evs[0])
}

func TestAuthenticateRefusesBadTokens(t *testing.T) {
	f := newFixture(t, Options{})
	for name, tok := range map[string]string{"empty": "", "unknown": "abc", "huge": strings.Repeat("x", 300)} {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.Authenticate(context.Background(), tok)
			assert.ErrorIs(t, err, fault.ErrUnauthorized)
			assert.ErrorIs(t, err, ErrNoSession)
		})
	}
}

func TestWrongPasswordAndUnknownEmailLookAlike(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user(t, "doc@x.example", actor.RoleStaff)
	f.ev.reset()

	_, errWrong := f.svc.Login(client("1.1.1.1"), "doc@x.example", "not the password")
	_, errUnknown := f.svc.Login(client("1.1.1.1"), "ghost@x.example", "not the password")
	require.ErrorIs(t, errWrong, fault.ErrUnauthorized)
	require.ErrorIs(t, errUnknown, fault.ErrUnauthorized)
	assert.Equal(t, errWrong.Error(), errUnknown.Error())
	assert.Equal(t, "login: the email or password is not right", errWrong.Error())

	evs := f.ev.all()
	require.Len(t, evs, 2)
	assert.Equal(t, []string{"auth.login failure", "auth.login failure"}, f.ev.actions())
	assert.Equal(t, u.ID, evs[0].Record)
	assert.Equal(t, "wrong password", evs[0].Detail)
	assert.Empty(t, evs[1].Record)
	assert.Equal(t, "unknown account", evs[1].Detail)
	for _, e := range evs {
		assert.Empty(t, e.Actor, "nobody is signed in")
		assert.NotContains(t, e.Detail+e.Record, "ghost")
		assert.NotContains(t, e.Detail+e.Record, "not the password")
	}
}

func TestLoginNeedsEmailAndPassword(t *testing.T) {
	f := newFixture(t, Options{})
	_, err := f.svc.Login(client("1.1.1.1"), "  ", "")
	require.ErrorIs(t, err, fault.ErrInvalid)
	assert.Equal(t, map[string]string{"email": "is required", "password": "is required"}, fieldsOf(t, err))
}

func TestLockout(t *testing.T) {
	f := newFixture(t, Options{MaxFailures: 3, LockoutDuration: 10 * time.Minute})
	u := f.user(t, "doc@x.example", actor.RoleStaff)
	f.ev.reset()
	ip := client("1.1.1.1")

	// Failures below the limit, then a success, clear the count.
	for range 2 {
		_, err := f.svc.Login(ip, u.Email, "wrong password 1")
		require.ErrorIs(t, err, fault.ErrUnauthorized)
	}
	_, err := f.svc.Login(ip, u.Email, testPassword)
	require.NoError(t, err)

	for i := range 2 {
		_, err := f.svc.Login(ip, u.Email, "wrong password 2")
		require.ErrorIs(t, err, fault.ErrUnauthorized, "failure %d", i+1)
	}
	_, err = f.svc.Login(ip, u.Email, "wrong password 3")
	require.ErrorIs(t, err, fault.ErrLocked)
	assert.Contains(t, err.Error(), "locked for 10 minutes after 3 failed sign-ins")

	f.clock.Advance(4 * time.Minute)
	_, err = f.svc.Login(ip, u.Email, testPassword)
	require.ErrorIs(t, err, fault.ErrLocked, "the right password does not open a locked account")
	assert.Contains(t, err.Error(), "locked for 6 minutes")

	evs := f.ev.all()
	last := evs[len(evs)-1]
	assert.Equal(t, audit.OutcomeDenied, last.Outcome)
	assert.Equal(t, "account locked", last.Detail)
	assert.Equal(t, u.ID, last.Record)
	assert.Equal(t, "wrong password; account locked", evs[len(evs)-2].Detail)

	f.clock.Advance(6*time.Minute + time.Second)
	_, err = f.svc.Login(ip, u.Email, testPassword)
	assert.NoError(t, err, "the lock ends by itself")
}

func TestUnknownEmailsLockToo(t *testing.T) {
	f := newFixture(t, Options{MaxFailures: 2})
	ip := client("1.1.1.1")
	_, err := f.svc.Login(ip, "ghost@x.example", "whatever password")
	require.ErrorIs(t, err, fault.ErrUnauthorized)
	_, err = f.svc.Login(ip, "Ghost@X.example", "whatever password")
	require.ErrorIs(t, err, fault.ErrLocked, "no hint that the account does not exist")
	_, err = f.svc.Login(ip, "ghost@x.example", "whatever password")
	require.ErrorIs(t, err, fault.ErrLocked)
}

func TestLoginThrottlePerAddress(t *testing.T) {
	f := newFixture(t, Options{LoginsPerIPPerMinute: 3})
	u := f.user(t, "doc@x.example", actor.RoleStaff)
	f.ev.reset()
	for range 3 {
		_, err := f.svc.Login(client("1.1.1.1"), "ghost@x.example", "whatever password")
		require.ErrorIs(t, err, fault.ErrUnauthorized)
	}
	_, err := f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	require.ErrorIs(t, err, fault.ErrTooMany)
	assert.Contains(t, err.Error(), "wait a minute")
	last := f.ev.all()[len(f.ev.all())-1]
	assert.Equal(t, audit.OutcomeDenied, last.Outcome)
	assert.Equal(t, "1.1.1.1", last.IP)

	_, err = f.svc.Login(client("2.2.2.2"), u.Email, testPassword)
	require.NoError(t, err, "another address is not slowed down")

	f.clock.Advance(time.Minute)
	_, err = f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	require.NoError(t, err, "a new minute, a new window")

	// Sign-ins without an address (CLI) are not throttled.
	for range 5 {
		_, err = f.svc.Login(context.Background(), u.Email, testPassword)
		require.NoError(t, err)
	}
}

func TestCountersAreSafeUnderConcurrency(t *testing.T) {
	f := newFixture(t, Options{})
	now := f.clock.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, _, err := f.svc.bump(context.Background(), "login_ip|9.9.9.9", now, now.Add(time.Minute), false)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	n, end, err := f.svc.peek(context.Background(), "login_ip|9.9.9.9", now)
	require.NoError(t, err)
	assert.Equal(t, 20, n)
	assert.Equal(t, now.Add(time.Minute), end)
	assert.Equal(t, "counter login_ip", kindOf("login_ip|9.9.9.9"))
	assert.Equal(t, "counter", kindOf("odd"))
}

func TestIdleTimeout(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "doc@x.example", actor.RoleStaff)
	sess, err := f.svc.Login(client("1.1.1.1"), "doc@x.example", testPassword)
	require.NoError(t, err)
	other := New(f.db, f.ev, Options{Hash: fastHash, Now: f.clock.Now})

	// Activity on either instance keeps the session alive.
	for _, svc := range []*Service{f.svc, other, f.svc} {
		f.clock.Advance(14 * time.Minute)
		_, err := svc.Authenticate(context.Background(), sess.Token)
		require.NoError(t, err)
	}
	f.clock.Advance(15*time.Minute + time.Second)
	_, err = f.svc.Authenticate(context.Background(), sess.Token)
	require.ErrorIs(t, err, fault.ErrUnauthorized)
	assert.Contains(t, err.Error(), "expired after 15 minutes of inactivity")

	n, err := store.Query[int](context.Background(), f.db, "RETURN count(SELECT id FROM session)", nil)
	require.NoError(t, err)
	assert.Zero(t, n, "the expired session is deleted")
	_, err = other.Authenticate(context.Background(), sess.Token)
	assert.ErrorIs(t, err, ErrNoSession)
}

func TestMaxLifetime(t *testing.T) {
	f := newFixture(t, Options{MaxLifetime: time.Hour})
	f.user(t, "doc@x.example", actor.RoleStaff)
	sess, err := f.svc.Login(client("1.1.1.1"), "doc@x.example", testPassword)
	require.NoError(t, err)
	for range 5 {
		f.clock.Advance(10 * time.Minute)
		_, err := f.svc.Authenticate(context.Background(), sess.Token)
		require.NoError(t, err)
	}
	f.clock.Advance(10 * time.Minute)
	_, err = f.svc.Authenticate(context.Background(), sess.Token)
	require.ErrorIs(t, err, fault.ErrUnauthorized)
	assert.Contains(t, err.Error(), "maximum length of 1 hour")
}

func TestTouchIsThrottled(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "doc@x.example", actor.RoleStaff)
	sess, err := f.svc.Login(client("1.1.1.1"), "doc@x.example", testPassword)
	require.NoError(t, err)
	start := f.clock.Now()
	lastSeen := func() time.Time {
		rows, err := store.Query[[]sessionRow](context.Background(), f.db, "SELECT * FROM session", nil)
		require.NoError(t, err)
		require.Len(t, rows, 1)
		return rows[0].LastSeenAt
	}
	f.clock.Advance(10 * time.Second)
	_, err = f.svc.Authenticate(context.Background(), sess.Token)
	require.NoError(t, err)
	assert.Equal(t, start, lastSeen(), "no write within TouchEvery")
	f.clock.Advance(21 * time.Second)
	_, err = f.svc.Authenticate(context.Background(), sess.Token)
	require.NoError(t, err)
	assert.Equal(t, start.Add(31*time.Second), lastSeen())
}

func TestLogout(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user(t, "doc@x.example", actor.RoleStaff)
	sess, err := f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	require.NoError(t, err)
	other := New(f.db, f.ev, Options{Hash: fastHash, Now: f.clock.Now})
	_, err = other.Authenticate(context.Background(), sess.Token)
	require.NoError(t, err)
	f.ev.reset()

	ctx := actor.With(context.Background(), sess.Actor(actor.Actor{RequestID: "r", IP: "1.1.1.1"}))
	require.NoError(t, f.svc.Logout(ctx, sess.ID))
	_, err = f.svc.Authenticate(context.Background(), sess.Token)
	assert.ErrorIs(t, err, ErrNoSession, "signed out at once here")
	f.clock.Advance(3 * time.Second)
	_, err = other.Authenticate(context.Background(), sess.Token)
	assert.ErrorIs(t, err, ErrNoSession, "and within the cache time elsewhere")

	evs := f.ev.all()
	require.Len(t, evs, 1)
	assert.Equal(t, "auth.logout", evs[0].Action)
	assert.Equal(t, u.ID, evs[0].Record)
	assert.Equal(t, u.ID, evs[0].Actor)

	assert.ErrorIs(t, f.svc.Logout(ctx, ""), ErrNoSession)
	require.NoError(t, f.svc.Logout(ctx, sess.ID), "signing out twice is harmless")
}

func TestChangesReachCachedSessions(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "root@x.example", actor.RoleAdmin)
	u := f.user(t, "doc@x.example", actor.RoleStaff)
	sess, err := f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	require.NoError(t, err)
	other := New(f.db, f.ev, Options{Hash: fastHash, Now: f.clock.Now})
	_, err = other.Authenticate(context.Background(), sess.Token)
	require.NoError(t, err)

	_, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{Role: ptr(actor.RoleAuditor)})
	require.NoError(t, err)
	got, err := f.svc.Authenticate(context.Background(), sess.Token)
	require.NoError(t, err)
	assert.Equal(t, actor.RoleAuditor, got.User.Role, "a new role applies at once on this instance")
	f.clock.Advance(3 * time.Second)
	got, err = other.Authenticate(context.Background(), sess.Token)
	require.NoError(t, err)
	assert.Equal(t, actor.RoleAuditor, got.User.Role, "and within the cache time elsewhere")

	// Disabled directly in the database (e.g. by another instance that
	// crashed before deleting sessions): refused at the next read.
	require.NoError(t, f.db.Exec(context.Background(), "UPDATE type::record('user', $id) SET disabled = true", map[string]any{"id": u.ID}))
	f.clock.Advance(3 * time.Second)
	_, err = other.Authenticate(context.Background(), sess.Token)
	require.ErrorIs(t, err, fault.ErrUnauthorized)
	assert.Contains(t, err.Error(), "disabled")
	n, err := store.Query[int](context.Background(), f.db, "RETURN count(SELECT id FROM session)", nil)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestRehashOnLogin(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "doc@x.example", actor.RoleStaff)
	stronger := New(f.db, f.ev, Options{Hash: HashParams{Memory: 512, Time: 2, Threads: 1}, Now: f.clock.Now})
	_, err := stronger.Login(client("1.1.1.1"), "doc@x.example", testPassword)
	require.NoError(t, err)
	rows, err := store.Query[[]userRow](context.Background(), f.db, "SELECT * FROM user", nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rows[0].PasswordHash, "$argon2id$v=19$m=512,t=2,p=1$"), rows[0].PasswordHash)
	_, err = f.svc.Login(client("1.1.1.1"), "doc@x.example", testPassword)
	require.NoError(t, err, "the upgraded hash still verifies")
}

func TestCleanupRemovesExpiredRows(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "doc@x.example", actor.RoleStaff)
	_, err := f.svc.Login(client("1.1.1.1"), "doc@x.example", testPassword)
	require.NoError(t, err)
	_, err = f.svc.Login(client("1.1.1.1"), "doc@x.example", "wrong password!")
	require.Error(t, err)
	count := func(table string) int {
		n, err := store.Query[int](context.Background(), f.db, "RETURN count(SELECT id FROM type::table($t))", map[string]any{"t": table})
		require.NoError(t, err)
		return n
	}
	assert.Equal(t, 1, count("session"))
	assert.Equal(t, 2, count("rate_counter"))

	f.clock.Advance(time.Hour)
	_, err = f.svc.Login(client("2.2.2.2"), "doc@x.example", testPassword)
	require.NoError(t, err)
	assert.Equal(t, 1, count("session"), "the idle session is gone, the new one stays")
	assert.Equal(t, 1, count("rate_counter"), "only the new address's counter stays")
}

func TestLoginAuditFailure(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "doc@x.example", actor.RoleStaff)
	f.ev.fail = errors.New("audit down")
	_, err := f.svc.Login(client("1.1.1.1"), "doc@x.example", testPassword)
	require.Error(t, err, "no session without its audit event")
	_, err = f.svc.Login(client("1.1.1.1"), "doc@x.example", "wrong password!")
	require.Error(t, err)
	assert.NotErrorIs(t, err, fault.ErrUnauthorized)
}

func TestDatabaseAwayFailsCleanly(t *testing.T) {
	f := newFixture(t, Options{})
	f.user(t, "root@x.example", actor.RoleAdmin)
	u := f.user(t, "doc@x.example", actor.RoleStaff)
	sess, err := f.svc.Login(client("1.1.1.1"), u.Email, testPassword)
	require.NoError(t, err)
	require.NoError(t, f.db.Close())
	f.clock.Advance(time.Hour)

	ip := client("1.1.1.1")
	_, err = f.svc.Login(ip, u.Email, testPassword)
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	_, err = f.svc.Login(context.Background(), u.Email, testPassword)
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	_, err = f.svc.Authenticate(ip, sess.Token)
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	assert.ErrorIs(t, f.svc.Logout(ip, sess.ID), fault.ErrUnavailable)
	_, err = f.svc.CreateUser(f.admin, NewUser{Email: "n@x.example", Name: "N", Role: actor.RoleStaff, Password: testPassword})
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	_, err = f.svc.ListUsers(f.admin)
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	_, err = f.svc.GetUser(f.admin, u.ID)
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	_, err = f.svc.UserByEmail(f.admin, u.Email)
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	_, err = f.svc.UpdateUser(f.admin, u.ID, UserPatch{Name: ptr("X")})
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	_, _, err = f.svc.EnsureAdmin(context.Background(), "a@x.example", "")
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	assert.ErrorIs(t, f.svc.clearCounter(ip, "login_ip|1.1.1.1"), fault.ErrUnavailable)
	_, _, err = f.svc.peek(ip, "login_ip|1.1.1.1", f.clock.Now())
	assert.ErrorIs(t, err, fault.ErrUnavailable)
	assert.ErrorIs(t, f.svc.revokeUserSessions(ip, u.ID, ""), fault.ErrUnavailable)
}

// TestAuthenticateConcurrentOnOneSession: many requests on one session,
// through several instances that each write last_seen_at on every
// request, all succeed — a conflict on the session row is never the
// user's error (it was a 500 under load).
func TestAuthenticateConcurrentOnOneSession(t *testing.T) {
	f := newFixture(t, Options{Now: time.Now, TouchEvery: time.Nanosecond, CacheTTL: time.Nanosecond})
	// The file engine production runs (the in-memory one of the other
	// tests serializes writes and never conflicts).
	f.db = fileDB(t)
	f.svc = New(f.db, f.ev, Options{Hash: fastHash, Now: time.Now, TouchEvery: time.Nanosecond, CacheTTL: time.Nanosecond})
	f.user(t, "busy@x.example", actor.RoleStaff)
	sess, err := f.svc.Login(client("192.0.2.9"), "busy@x.example", testPassword)
	require.NoError(t, err)

	const instances, workers, each = 4, 25, 30
	var wg sync.WaitGroup
	errs := make(chan error, instances*workers*each)
	for range instances {
		svc := New(f.db, f.ev, Options{Hash: fastHash, Now: time.Now, TouchEvery: time.Nanosecond, CacheTTL: time.Nanosecond})
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					got, err := svc.Authenticate(context.Background(), sess.Token)
					if err == nil && got.ID != sess.ID {
						err = errors.New("another session answered")
					}
					if err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	rows, err := store.Query[[]sessionRow](context.Background(), f.db, "SELECT * FROM session", nil)
	require.NoError(t, err)
	require.Len(t, rows, 1, "the session is still there")
	assert.True(t, rows[0].LastSeenAt.After(sess.CreatedAt) || rows[0].LastSeenAt.Equal(sess.CreatedAt))
}

// fileDB is a database on an engine of its own that keeps its data in
// files (surrealkv), as a production server does.
func fileDB(t *testing.T) *store.DB {
	t.Helper()
	if _, err := storetest.Engine(); err != nil || storetest.SharedEngine() == nil {
		t.Skip("external database: no engine of our own")
	}
	wd, _ := os.Getwd()
	dir, err := dbengine.FindHostDir(wd)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	eng, err := dbengine.Start(ctx, dbengine.Config{Path: "surrealkv://" + t.TempDir(), HostDir: dir, StartTimeout: 2 * time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Stop() })
	user, pass := eng.Credentials()
	db, err := store.Open(ctx, store.Config{URL: eng.URL, Namespace: "test", Database: "auth", User: user, Password: pass,
		Logger: slog.New(slog.DiscardHandler), PingEvery: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}
