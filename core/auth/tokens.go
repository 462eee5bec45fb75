package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// One-time links to set a password (table password_token): an
// invitation sent when an admin creates a user with invite, valid 24
// hours, and a reset asked for on the sign-in page, valid 1 hour. Each
// works once.
//
// Only the SHA-256 of a token is stored. The token itself is an HMAC of
// the record id under a key kept outside the database (derived from
// Options.LockoutKey), so the job that e-mails the link rebuilds it from
// the record id in its arguments: neither the job nor any table holds a
// usable token.

// Purpose says what a password token is for.
type Purpose string

// The purposes of a password token.
const (
	PurposeInvite Purpose = "invite"
	PurposeReset  Purpose = "reset"
)

// How long the links work.
const (
	InviteValidity = 24 * time.Hour
	ResetValidity  = time.Hour
)

// ResetsPerHour caps password-reset requests per client address and per
// e-mail address (an unknown address counts alike).
const ResetsPerHour = 5

// ErrTokenInvalid refuses a link that is unknown, expired or already
// used; all three read the same.
var ErrTokenInvalid = fault.New(fault.ErrInvalid, "this link is not valid any more (it was used, or it expired); ask for a new one")

// ErrResetThrottled refuses too many reset requests.
var ErrResetThrottled = fault.New(fault.ErrTooMany, "too many password reset requests; try again in an hour")

// PasswordToken is a link issued to a user.
type PasswordToken struct {
	ID        string    // record id (what a job carries)
	UserID    string    // the user it sets the password of
	Purpose   Purpose   //
	Token     string    // the secret part of the link
	ExpiresAt time.Time //
}

var tokenIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// tokenSecret derives the secret of token record id.
func (s *Service) tokenSecret(id string) string {
	m := hmac.New(sha256.New, s.opt.LockoutKey)
	m.Write([]byte("password_token|" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

type tokenRow struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	Purpose   string     `json:"purpose"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at"`
}

// issueToken stores a new token of purpose for userID.
func (s *Service) issueToken(ctx context.Context, userID string, p Purpose) (PasswordToken, error) {
	id, err := randomToken(15)
	if err != nil {
		return PasswordToken{}, err
	}
	id = strings.NewReplacer("-", "a", "_", "b").Replace(id)
	token := s.tokenSecret(id)
	validity := InviteValidity
	if p == PurposeReset {
		validity = ResetValidity
	}
	exp := s.now().Add(validity)
	if err := s.db.Exec(ctx, "CREATE $id CONTENT $t", map[string]any{"id": store.RecordID("password_token", id),
		"t": map[string]any{"token_hash": tokenHash(token), "user_id": userID, "purpose": string(p),
			"expires_at": exp, "created_at": s.now()}}); err != nil {
		return PasswordToken{}, fmt.Errorf("store password token: %w", err)
	}
	return PasswordToken{ID: id, UserID: userID, Purpose: p, Token: token, ExpiresAt: exp}, nil
}

// Invite issues the one-time link (24 h) with which user id sets their
// password, and audits "user.invite". Admins only.
func (s *Service) Invite(ctx context.Context, id string) (PasswordToken, error) {
	if err := requireAdmin(ctx); err != nil {
		return PasswordToken{}, fmt.Errorf("invite user: %w", err)
	}
	u, err := s.userByID(ctx, id)
	if err != nil {
		return PasswordToken{}, fmt.Errorf("invite user: %w", err)
	}
	t, err := s.issueToken(ctx, store.Key(u.ID), PurposeInvite)
	if err != nil {
		return PasswordToken{}, fmt.Errorf("invite user: %w", err)
	}
	if err := s.record(ctx, audit.Event{Action: "user.invite", Resource: "user", Record: t.UserID,
		Outcome: audit.OutcomeSuccess}); err != nil {
		return PasswordToken{}, fmt.Errorf("invite user: %w", err)
	}
	return t, nil
}

// RequestReset issues a one-time reset link (1 h) for the active user
// with email. ok is false, with no error, when no active user has it:
// callers answer the same either way. Requests are limited to
// ResetsPerHour per client address (actor.From(ctx).IP) and per email.
func (s *Service) RequestReset(ctx context.Context, email string) (t PasswordToken, ok bool, err error) {
	now := s.now()
	email = NormalizeEmail(email)
	keys := []string{"reset_email|" + strings.TrimPrefix(s.lockKey(email), "login_fail|")}
	if ip := actor.From(ctx).IP; ip != "" {
		keys = append(keys, "reset_ip|"+ip)
	}
	for _, k := range keys {
		n, _, err := s.bump(ctx, k, now, now.Add(time.Hour), false)
		if err != nil {
			return PasswordToken{}, false, fmt.Errorf("request password reset: %w", err)
		}
		if n > ResetsPerHour {
			return PasswordToken{}, false, fmt.Errorf("request password reset: %w", ErrResetThrottled)
		}
	}
	u, found, err := s.userByEmail(ctx, email)
	if err != nil {
		return PasswordToken{}, false, fmt.Errorf("request password reset: %w", err)
	}
	if !found || u.Disabled {
		return PasswordToken{}, false, nil
	}
	t, err = s.issueToken(ctx, store.Key(u.ID), PurposeReset)
	if err != nil {
		return PasswordToken{}, false, fmt.Errorf("request password reset: %w", err)
	}
	if err := s.record(ctx, audit.Event{Action: "user.password_reset_request", Resource: "user", Record: t.UserID,
		Outcome: audit.OutcomeSuccess}); err != nil {
		return PasswordToken{}, false, fmt.Errorf("request password reset: %w", err)
	}
	return t, true, nil
}

// TokenLink rebuilds the secret of token record id while it is unused
// and unexpired, with its user and purpose: what the e-mail job needs.
func (s *Service) TokenLink(ctx context.Context, id string) (PasswordToken, error) {
	if !tokenIDPattern.MatchString(id) {
		return PasswordToken{}, fmt.Errorf("password token link: %w", ErrTokenInvalid)
	}
	rows, err := store.Query[[]tokenRow](ctx, s.db,
		"SELECT record::id(id) AS id, user_id, purpose, expires_at, used_at FROM $id",
		map[string]any{"id": store.RecordID("password_token", id)})
	if err != nil {
		return PasswordToken{}, fmt.Errorf("password token link: %w", err)
	}
	if len(rows) == 0 || rows[0].UsedAt != nil || !rows[0].ExpiresAt.After(s.now()) {
		return PasswordToken{}, fmt.Errorf("password token link: %w", ErrTokenInvalid)
	}
	r := rows[0]
	return PasswordToken{ID: r.ID, UserID: r.UserID, Purpose: Purpose(r.Purpose), Token: s.tokenSecret(r.ID),
		ExpiresAt: r.ExpiresAt.UTC()}, nil
}

// SetPasswordWithToken sets the password of the user a one-time link was
// issued to, using the link up (a second use is refused with
// ErrTokenInvalid), ends the user's sessions, voids their other links and
// audits "user.password_set". Nobody needs to be signed in.
func (s *Service) SetPasswordWithToken(ctx context.Context, token, password string) (User, error) {
	if token == "" || len(token) > 128 {
		return User{}, fmt.Errorf("set password: %w", ErrTokenInvalid)
	}
	// Look the link up first, so that a password the rules refuse does
	// not use it up.
	rows, err := store.Query[[]tokenRow](ctx, s.db,
		`SELECT record::id(id) AS id, user_id, purpose, expires_at, used_at FROM password_token
			WHERE token_hash = $h AND used_at = NONE AND expires_at > $now`,
		map[string]any{"h": tokenHash(token), "now": s.now()})
	if err != nil {
		return User{}, fmt.Errorf("set password: %w", err)
	}
	if len(rows) == 0 {
		return User{}, fmt.Errorf("set password: %w", ErrTokenInvalid)
	}
	u, err := s.userByID(ctx, rows[0].UserID)
	if err != nil || u.Disabled {
		return User{}, fmt.Errorf("set password: %w", ErrTokenInvalid)
	}
	var f fault.Fields
	if password == "" {
		f.Add("password", "is required")
	} else if msg := checkPassword(password, u.Email); msg != "" {
		f.Add("password", msg)
	}
	if err := f.Err(); err != nil {
		return User{}, fmt.Errorf("set password: %w", err)
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return User{}, fmt.Errorf("set password: %w", err)
	}
	// Use the link up: only one caller's UPDATE finds it unused.
	used, err := store.Query[[]string](ctx, s.db,
		`UPDATE $id SET used_at = $now WHERE used_at = NONE AND expires_at > $now RETURN VALUE record::id(id)`,
		map[string]any{"id": store.RecordID("password_token", rows[0].ID), "now": s.now()})
	if err != nil {
		return User{}, fmt.Errorf("set password: %w", err)
	}
	if len(used) == 0 {
		return User{}, fmt.Errorf("set password: %w", ErrTokenInvalid)
	}
	userID := store.Key(u.ID)
	if err := s.db.Exec(ctx, `UPDATE $u SET password_hash = $hash, updated_at = $now;
		UPDATE password_token SET used_at = $now WHERE user_id = $uid AND used_at = NONE;`,
		map[string]any{"u": u.ID, "hash": hash, "now": s.now(), "uid": userID}); err != nil {
		return User{}, fmt.Errorf("set password: %w", err)
	}
	if err := s.revokeUserSessions(ctx, userID, ""); err != nil {
		return User{}, fmt.Errorf("set password: %w", err)
	}
	prev := actor.From(ctx)
	sys := actor.With(ctx, actor.Actor{UserID: userID, Email: u.Email, Role: u.user().Role, ProviderID: u.ProviderID, IP: prev.IP, RequestID: prev.RequestID})
	if err := s.record(sys, audit.Event{Action: "user.password_set", Resource: "user", Record: userID,
		Outcome: audit.OutcomeSuccess, Detail: "via=" + rows[0].Purpose}); err != nil {
		return User{}, fmt.Errorf("set password: %w", err)
	}
	return u.user(), nil
}
