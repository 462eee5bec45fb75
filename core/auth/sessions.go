package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Session is a signed-in user's session. The same session serves a
// browser (cookie + CSRF token) and a script (Authorization: Bearer).
type Session struct {
	// Token is the secret credential; set only by Login (the database
	// keeps its SHA-256 hash, never the token).
	Token     string
	ID        string
	User      User
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time // absolute end, however active
	// IdleTimeout is the automatic logoff time.
	IdleTimeout time.Duration
}

// Actor returns the actor the session acts as, keeping the request id
// and client address of base.
func (s Session) Actor(base actor.Actor) actor.Actor {
	base.UserID = s.User.ID
	base.Email = s.User.Email
	base.Role = s.User.Role
	base.ProviderID = s.User.ProviderID
	base.SessionID = s.ID
	return base
}

type sessionRow struct {
	ID         models.RecordID `json:"id"`
	TokenHash  string          `json:"token_hash"`
	UserID     string          `json:"user_id"`
	CSRFToken  string          `json:"csrf_token"`
	CreatedAt  time.Time       `json:"created_at"`
	LastSeenAt time.Time       `json:"last_seen_at"`
	ExpiresAt  time.Time       `json:"expires_at"`
}

// cached is a validated session held in memory.
type cached struct {
	sess     Session
	lastSeen time.Time // latest activity known here
	touched  time.Time // when last_seen_at was last written
	loaded   time.Time // when read from the database
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func (s *Service) idleError() error {
	return because(ErrSessionIdle, fault.ErrUnauthorized, "your session expired after %s of inactivity; sign in again", human(s.opt.IdleTimeout))
}

func (s *Service) lifetimeError() error {
	return because(ErrSessionExpired, fault.ErrUnauthorized, "your session reached its maximum length of %s; sign in again", human(s.opt.MaxLifetime))
}

// Login checks email and password and opens a session. The client
// address (actor.From(ctx).IP) is throttled across instances; after
// MaxFailures failures in a row the account is locked for
// LockoutDuration (ErrLocked), whatever password is tried. An unknown
// email and a wrong password get the same answer (ErrBadCredentials)
// and take the same time. Every attempt is audited as "auth.login".
//
// Each attempt reserves its place in the failure count atomically
// before the password is verified, and the decision is taken from the
// count it got: however many guesses arrive at once, on however many
// instances, at most MaxFailures of them are ever verified per lockout
// window. A success clears the count.
func (s *Service) Login(ctx context.Context, email, password string) (Session, error) {
	a := actor.From(ctx)
	now := s.now()
	s.cleanup(ctx, now)

	if a.IP != "" {
		n, _, err := s.bump(ctx, "login_ip|"+a.IP, now, now.Add(time.Minute), false)
		if err != nil {
			return Session{}, fmt.Errorf("login: %w", err)
		}
		if n > s.opt.LoginsPerIPPerMinute {
			return Session{}, s.loginFailed(ctx, "", audit.OutcomeDenied, "too many attempts from this address", ErrThrottled)
		}
	}

	email = NormalizeEmail(email)
	var f fault.Fields
	if email == "" {
		f.Add("email", "is required")
	}
	switch {
	case password == "":
		f.Add("password", "is required")
	case len(password) > MaxPasswordLength:
		// Refused before hashing (argon2id of a huge input is costly) and
		// not counted as a guess: no password can be this long.
		f.Add("password", fmt.Sprintf("must be at most %d bytes long", MaxPasswordLength))
	}
	if err := f.Err(); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}

	row, known, err := s.userByEmail(ctx, email)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	userID := ""
	if known {
		userID = store.Key(row.ID)
	}
	lock := s.lockKey(email)
	n, until, err := s.reserve(ctx, lock, now)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	if n > s.opt.MaxFailures {
		return Session{}, s.loginFailed(ctx, userID, audit.OutcomeDenied, "account locked", s.lockedError(until.Sub(now)))
	}

	hash := s.dummyHash()
	if known {
		hash = row.PasswordHash
	}
	ok, rehash, err := s.verifyPassword(ctx, hash, password)
	if err != nil && known {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	if !ok || !known {
		why := "wrong password"
		if !known {
			why = "unknown account"
		}
		if n >= s.opt.MaxFailures {
			return Session{}, s.loginFailed(ctx, userID, audit.OutcomeFailure, why+"; account locked", s.lockedError(until.Sub(now)))
		}
		return Session{}, s.loginFailed(ctx, userID, audit.OutcomeFailure, why, ErrBadCredentials)
	}
	if err := s.clearCounter(ctx, lock); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	if row.Disabled {
		return Session{}, s.loginFailed(ctx, userID, audit.OutcomeDenied, "account disabled", ErrAccountDisabled)
	}

	sess, err := s.openSession(ctx, row, now)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	set := map[string]any{"last_login_at": now}
	if rehash {
		if h, err := s.hashPassword(ctx, password); err == nil {
			set["password_hash"] = h
		}
	}
	if err := s.db.Exec(ctx, "UPDATE $id MERGE $set", map[string]any{"id": row.ID, "set": set}); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	sess.User.LastLoginAt = &now
	if err := s.record(ctx, audit.Event{Actor: userID, Role: string(row.Role), Action: "auth.login", Resource: "user",
		Record: userID, Outcome: audit.OutcomeSuccess}); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	return sess, nil
}

func (s *Service) lockedError(left time.Duration) error {
	return because(ErrLocked, fault.ErrLocked, "this account is locked for %s after %d failed sign-ins; try again later or ask an admin to reset the password",
		human(max(left, time.Second)), s.opt.MaxFailures)
}

// loginFailed audits a refused sign-in and returns err (or the audit
// failure). The typed email and password never reach the event.
func (s *Service) loginFailed(ctx context.Context, userID, outcome, why string, err error) error {
	if aerr := s.record(ctx, audit.Event{Action: "auth.login", Resource: "user", Record: userID, Outcome: outcome, Detail: why}); aerr != nil {
		return fmt.Errorf("login: %w", aerr)
	}
	return fmt.Errorf("login: %w", err)
}

func (s *Service) openSession(ctx context.Context, row userRow, now time.Time) (Session, error) {
	token, err := randomToken(32)
	if err != nil {
		return Session{}, err
	}
	csrf, err := randomToken(32)
	if err != nil {
		return Session{}, err
	}
	kb := make([]byte, 12)
	if _, err := rand.Read(kb); err != nil {
		return Session{}, fmt.Errorf("open session: %w", err)
	}
	id := hex.EncodeToString(kb)
	sess := Session{
		Token: token, ID: id, User: row.user(), CSRFToken: csrf,
		CreatedAt: now, ExpiresAt: now.Add(s.opt.MaxLifetime), IdleTimeout: s.opt.IdleTimeout,
	}
	err = s.db.Exec(ctx, "CREATE $id CONTENT $s", map[string]any{"id": store.RecordID("session", id), "s": map[string]any{
		"token_hash": tokenHash(token), "user_id": sess.User.ID, "kind": "login", "csrf_token": csrf,
		"ip": actor.From(ctx).IP, "created_at": now, "last_seen_at": now, "expires_at": sess.ExpiresAt,
	}})
	if err != nil {
		return Session{}, fmt.Errorf("open session: %w", err)
	}
	s.mu.Lock()
	s.sessions[tokenHash(token)] = &cached{sess: withoutToken(sess), lastSeen: now, touched: now, loaded: now}
	s.mu.Unlock()
	return sess, nil
}

func withoutToken(s Session) Session {
	s.Token = ""
	return s
}

// Authenticate resolves a session token (from the cookie or a bearer
// header) into its session. It answers from memory for CacheTTL, writes
// last_seen_at at most every TouchEvery, and fails with a
// fault.ErrUnauthorized that says why, to be told apart with errors.Is:
// ErrNoSession (unknown or signed out), ErrSessionIdle, ErrSessionExpired
// (lifetime reached) or ErrAccountDisabled.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 256 {
		return Session{}, ErrNoSession
	}
	h := tokenHash(token)
	now := s.now()

	s.mu.Lock()
	s.sweep(now)
	var c cached
	p, ok := s.sessions[h]
	if ok {
		c = *p // a copy: other requests update the entry under s.mu
	}
	s.mu.Unlock()

	if !ok || now.Sub(c.loaded) >= s.opt.CacheTTL {
		loaded, err := s.loadSession(ctx, h, now)
		if err != nil {
			s.forget(h)
			return Session{}, err
		}
		if ok && c.lastSeen.After(loaded.lastSeen) {
			loaded.lastSeen, loaded.touched = c.lastSeen, c.touched
		}
		c = *loaded
	}
	if err := s.checkExpiry(ctx, c, now); err != nil {
		s.forget(h)
		return Session{}, err
	}

	c.lastSeen = now
	sess := c.sess
	// The touch is decided under the lock against the shared entry, so
	// of many concurrent requests on one session only one writes.
	s.mu.Lock()
	if cur := s.sessions[h]; cur != nil && cur.touched.After(c.touched) {
		c.touched = cur.touched
	}
	touch := now.Sub(c.touched) >= s.opt.TouchEvery
	if touch {
		c.touched = now
	}
	s.sessions[h] = &c
	s.mu.Unlock()

	if touch {
		if err := s.touch(ctx, sess.ID, now); err != nil {
			return Session{}, err
		}
	}
	return sess, nil
}

// touch writes a session's last_seen_at. A transaction conflict means
// another request (here or on another instance) wrote the row at that
// moment — a sign of the same activity — so it is not an error: the
// user's request goes on, and the next touch writes again.
func (s *Service) touch(ctx context.Context, id string, now time.Time) error {
	err := s.db.Exec(ctx, "UPDATE $id SET last_seen_at = $now WHERE last_seen_at < $now",
		map[string]any{"id": store.RecordID("session", id), "now": now})
	if err != nil && !errors.Is(err, store.ErrTxConflict) {
		return fmt.Errorf("authenticate: touch session: %w", err)
	}
	return nil
}

func (s *Service) checkExpiry(ctx context.Context, c cached, now time.Time) error {
	var err error
	switch {
	case !now.Before(c.sess.ExpiresAt):
		err = s.lifetimeError()
	case now.Sub(c.lastSeen) > s.opt.IdleTimeout:
		err = s.idleError()
	default:
		return nil
	}
	// A conflict here is another request ending the same session.
	if derr := s.db.Exec(ctx, "DELETE $id", map[string]any{"id": store.RecordID("session", c.sess.ID)}); derr != nil && !errors.Is(derr, store.ErrTxConflict) {
		return fmt.Errorf("authenticate: end expired session: %w", derr)
	}
	return err
}

// loadSession reads a session and its user in one round trip.
func (s *Service) loadSession(ctx context.Context, hash string, now time.Time) (*cached, error) {
	type both struct {
		Session *sessionRow `json:"session"`
		User    *userRow    `json:"user"`
	}
	res, err := store.Query[*both](ctx, s.db, `
		LET $s = (SELECT * FROM session WHERE token_hash = $h LIMIT 1)[0];
		RETURN IF $s THEN { session: $s, user: (SELECT * FROM type::record('user', $s.user_id))[0] } ELSE NONE END;`,
		map[string]any{"h": hash})
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if res == nil || res.Session == nil || res.User == nil {
		return nil, ErrNoSession
	}
	sr, ur := res.Session, res.User
	if ur.Disabled {
		if err := s.revokeUserSessions(ctx, store.Key(ur.ID), ""); err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		return nil, because(ErrAccountDisabled, fault.ErrUnauthorized, "this account is disabled; ask an admin to enable it")
	}
	return &cached{
		sess: Session{ID: store.Key(sr.ID), User: ur.user(), CSRFToken: sr.CSRFToken, CreatedAt: sr.CreatedAt,
			ExpiresAt: sr.ExpiresAt, IdleTimeout: s.opt.IdleTimeout},
		lastSeen: sr.LastSeenAt,
		touched:  sr.LastSeenAt,
		loaded:   now,
	}, nil
}

// Logout ends the session with id at once, on this instance and (within
// CacheTTL) on every other, and audits "auth.logout".
func (s *Service) Logout(ctx context.Context, sessionID string) error {
	if sessionID == "" {
		return fmt.Errorf("logout: %w", ErrNoSession)
	}
	rows, err := store.Query[[]sessionRow](ctx, s.db, "DELETE $id RETURN BEFORE", map[string]any{"id": store.RecordID("session", sessionID)})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.evict(func(c *cached) bool { return c.sess.ID == sessionID })
	userID := actor.From(ctx).UserID
	if len(rows) > 0 {
		userID = rows[0].UserID
	}
	if err := s.record(ctx, audit.Event{Action: "auth.logout", Resource: "user", Record: userID, Outcome: audit.OutcomeSuccess}); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// revokeUserSessions deletes every session of userID except keep.
func (s *Service) revokeUserSessions(ctx context.Context, userID, keep string) error {
	var keepID any
	if keep != "" {
		keepID = store.RecordID("session", keep)
	}
	if err := s.db.Exec(ctx, "DELETE session WHERE user_id = $u AND id != $keep", map[string]any{"u": userID, "keep": keepID}); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	s.evict(func(c *cached) bool { return c.sess.User.ID == userID && c.sess.ID != keep })
	return nil
}

func (s *Service) forget(hash string) {
	s.mu.Lock()
	delete(s.sessions, hash)
	s.mu.Unlock()
}

func (s *Service) evict(match func(*cached) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, c := range s.sessions {
		if match(c) {
			delete(s.sessions, h)
		}
	}
}

// sweep drops long-unused cache entries; s.mu is held.
func (s *Service) sweep(now time.Time) {
	if now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for h, c := range s.sessions {
		if now.Sub(c.lastSeen) > s.opt.IdleTimeout || now.Sub(c.loaded) > time.Minute {
			delete(s.sessions, h)
		}
	}
}

// cleanup deletes expired sessions and stale counters, at most once a
// minute per instance. Failures are ignored: the next run retries.
func (s *Service) cleanup(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.lastClean) >= time.Minute
	if due {
		s.lastClean = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	_ = s.db.Exec(ctx, `
		DELETE session WHERE expires_at < $now OR last_seen_at < $idle;
		DELETE rate_counter WHERE window_end < $now;`,
		map[string]any{"now": now, "idle": now.Add(-s.opt.IdleTimeout - s.opt.TouchEvery)})
}
