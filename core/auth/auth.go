// Package auth is pfinni's built-in authentication: users with argon2id
// password hashes and the roles admin, staff and auditor; sign-in with
// throttling and temporary lockout; sessions stored in SurrealDB (only a
// SHA-256 hash of each token), with an idle timeout, an absolute lifetime
// and a CSRF token; and the bootstrap admin created at first start.
//
// The Service is the one place where users, roles and sessions change,
// so the API, the CLI and the chat assistant are checked and audited
// alike: every user or role change and every sign-in, success or not,
// leaves an audit event (never a password, never the typed email).
//
// Refusals are typed (ErrNoSession, ErrSessionIdle, ErrSessionExpired,
// ErrAccountDisabled, ErrBadCredentials, ErrLocked, ErrThrottled) and
// told apart with errors.Is; core/httpauth turns them into HTTP answers
// for the API and the pages alike.
//
// Only core/app, core/api, core/httpauth, core/dashboard and cmd/pfinni
// import this package. A Service
// is safe for concurrent use; several core instances may share one
// database: sessions, lockouts and login throttles live in SurrealDB,
// and each instance caches a validated session for a few seconds only.
//
// SurrealDB documentation this package follows:
//   - https://surrealdb.com/docs/surrealql/statements/create
//   - https://surrealdb.com/docs/surrealql/statements/update
//   - https://surrealdb.com/docs/surrealql/statements/delete
//   - https://surrealdb.com/docs/surrealql/statements/select
//   - https://surrealdb.com/docs/surrealql/statements/let
//   - https://surrealdb.com/docs/surrealql/statements/ifelse
//   - https://surrealdb.com/docs/surrealql/functions/database/type#typerecord
//   - https://surrealdb.com/docs/surrealql/statements/define/indexes (unique email, token hash)
package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/store"
)

// Auditor stores audit events. *audit.Log implements it: it fills Actor,
// Role, RequestID and IP from actor.From(ctx) when they are empty and
// returns only after the event is stored.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Options tune the Service. Zero values take the defaults named on each
// field; OptionsFrom fills them from the configuration.
type Options struct {
	// IdleTimeout signs a session out after this much inactivity
	// (automatic logoff); 15 minutes when zero.
	IdleTimeout time.Duration
	// MaxLifetime ends a session this long after sign-in, however
	// active; 12 hours when zero.
	MaxLifetime time.Duration
	// MaxFailures failed sign-ins in a row lock an account for
	// LockoutDuration; 5 and 15 minutes when zero. Failures older than
	// LockoutDuration are forgotten.
	MaxFailures     int
	LockoutDuration time.Duration
	// LoginsPerIPPerMinute caps sign-in attempts per client address
	// across every core instance; 20 when zero.
	LoginsPerIPPerMinute int
	// CacheTTL is how long a validated session is trusted from memory
	// before it is read again (so a sign-out or a disabled account on
	// another instance takes effect within it); 3 seconds when zero.
	CacheTTL time.Duration
	// TouchEvery is how often a session's last_seen_at is written while
	// it is in use; 30 seconds when zero. The idle timeout is measured
	// from last_seen_at, so other instances see activity this late.
	TouchEvery time.Duration
	// LockoutKey is the secret the failure counters' keys are an
	// HMAC-SHA256 of the email with; kept outside the database
	// (LoadOrCreateKey). Instances sharing a database must share it, or
	// each counts failures on its own. Empty: a random key per Service
	// (failure counts are then forgotten at restart).
	LockoutKey []byte
	// Hash sets the argon2id cost of new password hashes;
	// DefaultHashParams when zero. Existing hashes keep their own cost
	// and are upgraded at the next successful sign-in.
	Hash HashParams
	// Now is the clock; time.Now when nil (tests pass a fake one).
	Now func() time.Time
}

// OptionsFrom returns the options the configuration sets.
func OptionsFrom(cfg *config.Config) Options {
	return Options{
		IdleTimeout:     cfg.SessionIdleTimeout,
		MaxLifetime:     cfg.SessionMaxLifetime,
		MaxFailures:     cfg.LoginMaxFailures,
		LockoutDuration: cfg.LockoutDuration,
	}
}

func (o Options) withDefaults() Options {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 15 * time.Minute
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = 12 * time.Hour
	}
	o.MaxLifetime = max(o.MaxLifetime, o.IdleTimeout)
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.LockoutDuration <= 0 {
		o.LockoutDuration = 15 * time.Minute
	}
	if o.LoginsPerIPPerMinute <= 0 {
		o.LoginsPerIPPerMinute = 20
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = 3 * time.Second
	}
	if o.TouchEvery <= 0 {
		o.TouchEvery = 30 * time.Second
	}
	if o.Hash == (HashParams{}) {
		o.Hash = DefaultHashParams
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.LockoutKey) == 0 {
		o.LockoutKey = make([]byte, 32)
		_, _ = rand.Read(o.LockoutKey) // never fails (crypto/rand)
	}
	return o
}

// Service manages users, sign-in and sessions.
type Service struct {
	db    *store.DB
	audit Auditor
	opt   Options

	// hashSlots bounds concurrent argon2id runs: each takes
	// Hash.Memory KiB, and a burst of sign-ins must not exhaust memory.
	hashSlots chan struct{}
	dummyOnce sync.Once
	dummy     string // hash verified for unknown emails, to take equal time

	mu        sync.Mutex
	sessions  map[string]*cached // by token hash
	lastSweep time.Time
	lastClean time.Time
}

// New returns the Service on db. auditor must not be nil: every change
// of users and every sign-in is audited.
func New(db *store.DB, auditor Auditor, opt Options) *Service {
	if auditor == nil {
		panic("auth.New: nil Auditor")
	}
	return &Service{
		db:        db,
		audit:     auditor,
		opt:       opt.withDefaults(),
		hashSlots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		sessions:  map[string]*cached{},
	}
}

// IdleTimeout is the automatic logoff time of a session.
func (s *Service) IdleTimeout() time.Duration { return s.opt.IdleTimeout }

func (s *Service) now() time.Time { return s.opt.Now().UTC() }

// record stores e and wraps a failure with the operation.
func (s *Service) record(ctx context.Context, e audit.Event) error {
	if err := s.audit.Record(ctx, e); err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	return nil
}

// human renders d for people: "15 minutes", "1 hour", "90 seconds".
func human(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	case d >= 2*time.Minute:
		return plural(int64((d+time.Minute-1)/time.Minute), "minute")
	default:
		return plural(int64((d+time.Second-1)/time.Second), "second")
	}
}
