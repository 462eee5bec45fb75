package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// M1: guesses sent in parallel all used to pass the lockout check while
// they queued for the password hash, so a burst got far more than
// MaxFailures tries. Each attempt now takes its place in the count
// before the password is checked.
func TestParallelGuessesAreCountedBeforeVerifying(t *testing.T) {
	// The real argon2id cost, so the guesses queue for the hash slots as
	// they do under attack.
	f := newFixture(t, Options{MaxFailures: 5, Hash: DefaultHashParams})
	u := f.user(t, "doc@x.example", actor.RoleStaff)
	f.ev.reset()

	const guesses = 20
	errs := make(chan error, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			_, err := f.svc.Login(client(fmt.Sprintf("198.51.100.%d", i+1)), u.Email, fmt.Sprintf("wrong guess %02d!", i))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)

	var wrong, locked int
	for err := range errs {
		switch {
		case errors.Is(err, ErrBadCredentials):
			wrong++
		case errors.Is(err, ErrLocked):
			locked++
		default:
			t.Errorf("unexpected answer: %v", err)
		}
	}
	verified := 0
	for _, e := range f.ev.all() {
		if e.Outcome == audit.OutcomeFailure { // the password was checked and was wrong
			verified++
		}
	}
	assert.Equal(t, 5, verified, "only MaxFailures guesses may reach the password check")
	assert.Equal(t, 4, wrong)
	assert.Equal(t, guesses-4, locked)

	_, err := f.svc.Login(client("198.51.100.200"), u.Email, testPassword)
	assert.ErrorIs(t, err, ErrLocked, "the account is locked for the right password too")
}

// Attempts against a locked account neither check the password nor
// prolong the lock.
func TestLockedAttemptsDoNotProlongTheLock(t *testing.T) {
	f := newFixture(t, Options{MaxFailures: 2, LockoutDuration: 10 * time.Minute})
	u := f.user(t, "doc@x.example", actor.RoleStaff)
	ip := client("1.1.1.1")
	for range 2 {
		_, _ = f.svc.Login(ip, u.Email, "wrong password!")
	}
	for range 3 {
		f.clock.Advance(3 * time.Minute)
		_, err := f.svc.Login(ip, u.Email, testPassword)
		require.ErrorIs(t, err, ErrLocked)
	}
	f.clock.Advance(time.Minute + time.Second) // 10 minutes after the last failure
	_, err := f.svc.Login(ip, u.Email, testPassword)
	require.NoError(t, err)
}

// Low 11: the failure counter's key is an HMAC of the email with a
// secret kept outside the database, not a plain SHA-256 that anyone with
// a list of emails can match.
func TestLockoutKeyIsKeyed(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f := newFixture(t, Options{LockoutKey: key})
	_, err := f.svc.Login(client("1.1.1.1"), "Doc@X.example", "wrong password!")
	require.ErrorIs(t, err, ErrBadCredentials)

	ids, err := store.Query[[]string](context.Background(), f.db, "SELECT VALUE meta::id(id) FROM rate_counter WHERE string::starts_with(meta::id(id), 'login_fail|')", nil)
	require.NoError(t, err)
	require.Len(t, ids, 1)
	plain := sha256.Sum256([]byte("doc@x.example"))
	assert.NotContains(t, ids[0], hex.EncodeToString(plain[:]), "no unkeyed hash of the email")
	assert.NotContains(t, ids[0], "doc")

	// Another instance with the same key shares the count; one with
	// another key does not.
	same := New(f.db, f.ev, Options{LockoutKey: key, Hash: fastHash, Now: f.clock.Now})
	other := New(f.db, f.ev, Options{LockoutKey: []byte("another key, another count......"), Hash: fastHash, Now: f.clock.Now})
	assert.Equal(t, f.svc.lockKey("doc@x.example"), same.lockKey(" DOC@x.example"))
	assert.NotEqual(t, f.svc.lockKey("doc@x.example"), other.lockKey("doc@x.example"))
	assert.NotEqual(t, f.svc.lockKey("doc@x.example"), New(f.db, f.ev, Options{}).lockKey("doc@x.example"), "no key: a random one")
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, LockoutKeyFile)
	k1, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	assert.Len(t, k1, 32)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "readable by this user only")
	dst, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dst.Mode().Perm())

	k2, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	assert.Equal(t, k1, k2, "the same key after a restart")

	require.NoError(t, os.WriteFile(path, []byte("not hex"), 0o600))
	_, err = LoadOrCreateKey(path)
	assert.Error(t, err, "a damaged key file stops the start rather than forgetting every count")

	assert.ErrorIs(t, WriteSecretFile(path, "x"), os.ErrExist, "never overwrites")
	_, err = LoadOrCreateKey(filepath.Join(path, "below-a-file"))
	assert.Error(t, err)
}

// The reasons of a refusal are told apart with errors.Is, and each is
// its fault kind.
func TestTypedErrors(t *testing.T) {
	f := newFixture(t, Options{MaxFailures: 2, IdleTimeout: time.Minute, MaxLifetime: 2 * time.Hour})
	u := f.user(t, "doc@x.example", actor.RoleStaff)
	ip := client("1.1.1.1")

	_, err := f.svc.Login(ip, u.Email, "wrong password!")
	assert.ErrorIs(t, err, ErrBadCredentials)
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
	_, err = f.svc.Login(ip, u.Email, "wrong password!")
	assert.ErrorIs(t, err, ErrLocked)
	assert.ErrorIs(t, err, fault.ErrLocked)
	assert.NotErrorIs(t, err, ErrBadCredentials)

	v := f.user(t, "nurse@x.example", actor.RoleStaff)
	sess, err := f.svc.Login(ip, v.Email, testPassword)
	require.NoError(t, err)
	f.clock.Advance(2 * time.Minute)
	_, err = f.svc.Authenticate(ip, sess.Token)
	assert.ErrorIs(t, err, ErrSessionIdle)
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
	assert.NotErrorIs(t, err, ErrSessionExpired)
	assert.Contains(t, err.Error(), "1 minute of inactivity")

	_, err = f.svc.Authenticate(ip, sess.Token)
	assert.ErrorIs(t, err, ErrNoSession, "an ended session is gone")

	_, err = f.svc.UpdateUser(f.admin, v.ID, UserPatch{Disabled: ptr(true)})
	require.NoError(t, err)
	_, err = f.svc.Login(ip, v.Email, testPassword)
	assert.ErrorIs(t, err, ErrAccountDisabled)
	assert.ErrorIs(t, err, fault.ErrForbidden)
}
