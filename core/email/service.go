package email

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
)

// The job kinds.
const (
	// KindSend sends one message (arguments: sendArgs).
	KindSend = "email.send"
	// KindDigest enqueues the daily digest of every user who opted in
	// (a cron schedule, DigestSchedule).
	KindDigest = "email.digest"
)

// Users is what the service needs of the user directory (*auth.Service).
type Users interface {
	GetUser(ctx context.Context, id string) (auth.User, error)
	TokenLink(ctx context.Context, id string) (auth.PasswordToken, error)
}

// Auditor stores audit events (*audit.Log).
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Options tune the Service.
type Options struct {
	// BaseURL is where users reach pfinni (https://host/base), the root
	// of every link in a message.
	BaseURL string
	// DigestSchedule is the cron spec of the daily digest
	// ("0 7 * * *", 07:00 UTC).
	DigestSchedule string
	// OnboardingDays is the digest's "in onboarding for long" threshold (14).
	OnboardingDays int
	// Alerts, if set, counts each recipient's unread alerts for the
	// digest (core/alerts).
	Alerts AlertCounter
	// ProviderWebhookSecret verifies Resend's bounce and complaint
	// webhooks (resend_webhook_secret, "whsec_…"); empty refuses them.
	ProviderWebhookSecret string
	Logger                *slog.Logger
	// Now is the clock (time.Now).
	Now func() time.Time
}

// AlertCounter counts a user's unread alerts (core/alerts).
type AlertCounter interface {
	UnreadFor(ctx context.Context, user string) (int, error)
}

// Service queues and sends e-mails. Its methods are safe for concurrent use.
type Service struct {
	db     *store.DB
	queue  *jobs.Queue
	sender Sender // nil: e-mail is off
	users  Users
	audit  Auditor
	opt    Options
	log    *slog.Logger
}

// New returns the service. sender nil means e-mail is off: nothing is
// queued, and callers show links to the admin instead (Enabled).
func New(db *store.DB, q *jobs.Queue, sender Sender, users Users, auditor Auditor, opt Options) *Service {
	if opt.DigestSchedule == "" {
		opt.DigestSchedule = "0 7 * * *"
	}
	if opt.OnboardingDays <= 0 {
		opt.OnboardingDays = 14
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{db: db, queue: q, sender: sender, users: users, audit: auditor, opt: opt,
		log: opt.Logger.With("component", "email")}
}

// Enabled reports whether e-mail is configured.
func (s *Service) Enabled() bool { return s != nil && s.sender != nil }

// Register adds the handlers and the digest schedule to q.
func (s *Service) Register(q *jobs.Queue) error {
	if err := q.Register(KindSend, jobs.HandlerFunc(s.handleSend)); err != nil {
		return fmt.Errorf("register %s: %w", KindSend, err)
	}
	if err := q.Register(KindDigest, jobs.HandlerFunc(s.handleDigest)); err != nil {
		return fmt.Errorf("register %s: %w", KindDigest, err)
	}
	if err := q.Schedule("email-digest", s.opt.DigestSchedule, KindDigest, map[string]any{}); err != nil {
		return fmt.Errorf("schedule the e-mail digest: %w", err)
	}
	return nil
}

// sendArgs are a send job's arguments: record ids and counts only.
type sendArgs struct {
	Template string  `json:"template"`
	UserID   string  `json:"user_id"`
	TokenID  string  `json:"token_id,omitempty"`
	Day      string  `json:"day,omitempty"`
	Counts   *Counts `json:"counts,omitempty"`
	Key      string  `json:"key"`
}

// QueueLink queues the e-mail carrying a one-time password link
// (an invitation or a reset). Its idempotency key is
// email/<purpose>/<token id>.
func (s *Service) QueueLink(ctx context.Context, t auth.PasswordToken) error {
	if !s.Enabled() {
		return fmt.Errorf("queue %s e-mail: %w", t.Purpose, ErrOff)
	}
	tmpl := TemplateInvite
	if t.Purpose == auth.PurposeReset {
		tmpl = TemplateReset
	}
	key := "email/" + tmpl + "/" + t.ID
	return s.enqueue(ctx, sendArgs{Template: tmpl, UserID: t.UserID, TokenID: t.ID, Key: key})
}

// Inviter issues invitation links (*auth.Service).
type Inviter interface {
	Invite(ctx context.Context, userID string) (auth.PasswordToken, error)
}

// Invite issues an invitation (a one-time link, 24 h) for userID and
// queues its e-mail (sent true). With e-mail off it returns the link's
// token with sent false: the caller shows the link to the admin.
func (s *Service) Invite(ctx context.Context, inv Inviter, userID string) (t auth.PasswordToken, sent bool, err error) {
	t, err = inv.Invite(ctx, userID)
	if err != nil {
		return auth.PasswordToken{}, false, err
	}
	if !s.Enabled() {
		return t, false, nil
	}
	if err := s.QueueLink(ctx, t); err != nil {
		return auth.PasswordToken{}, false, err
	}
	return t, true, nil
}

// Resetter issues password-reset links (*auth.Service).
type Resetter interface {
	RequestReset(ctx context.Context, email string) (auth.PasswordToken, bool, error)
}

// ResetPassword issues a reset link for address and queues its e-mail
// when an active account uses it; it says nothing either way (the caller
// answers the same). With e-mail off nothing is issued: there is no way
// to deliver it.
func (s *Service) ResetPassword(ctx context.Context, r Resetter, address string) error {
	if !s.Enabled() {
		return nil
	}
	t, ok, err := r.RequestReset(ctx, address)
	if err != nil || !ok {
		return err
	}
	return s.QueueLink(ctx, t)
}

func (s *Service) enqueue(ctx context.Context, a sendArgs) error {
	if _, err := s.queue.Enqueue(ctx, KindSend, a, jobs.EnqueueOptions{UniqueKey: a.Key, MaxAttempts: 12}); err != nil {
		return fmt.Errorf("queue %s e-mail: %w", a.Template, err)
	}
	return nil
}

// handleSend sends one message, once per key: a key already in email_log
// is done; an address on the suppression list is not sent to.
func (s *Service) handleSend(ctx context.Context, j jobs.Job) error {
	var a sendArgs
	if err := j.Bind(&a); err != nil {
		return jobs.Permanent(err)
	}
	key := j.UniqueKey
	if key == "" {
		key = a.Key
	}
	if key == "" {
		key = "email/job/" + j.ID
	}
	done, err := store.Query[[]string](ctx, s.db, "SELECT VALUE outcome FROM email_log WHERE key = $k", map[string]any{"k": key})
	if err != nil {
		return fmt.Errorf("send e-mail %s: read log: %w", key, err)
	}
	if len(done) > 0 {
		return nil
	}
	sys := actor.System(ctx)
	u, err := s.users.GetUser(sys, a.UserID)
	if errors.Is(err, fault.ErrNotFound) {
		return jobs.Permanent(fmt.Errorf("send e-mail %s: user %s: %w", key, a.UserID, err))
	}
	if err != nil {
		return fmt.Errorf("send e-mail %s: %w", key, err)
	}
	if u.Disabled {
		s.log.Info("e-mail not sent: the user is disabled", "key", key, "user", a.UserID)
		return nil
	}
	to := auth.NormalizeEmail(u.Email)
	suppressed, err := s.Suppressed(ctx, to)
	if err != nil {
		return fmt.Errorf("send e-mail %s: %w", key, err)
	}
	if suppressed {
		return s.logOutcome(sys, key, a, "suppressed", "")
	}
	v := view{Day: a.Day}
	switch a.Template {
	case TemplateInvite, TemplateReset:
		t, err := s.users.TokenLink(sys, a.TokenID)
		if errors.Is(err, auth.ErrTokenInvalid) {
			s.log.Info("e-mail not sent: its link was used or expired", "key", key)
			return nil
		}
		if err != nil {
			return fmt.Errorf("send e-mail %s: %w", key, err)
		}
		v.Link = link(s.opt.BaseURL, "/set-password", url.Values{"token": {t.Token}})
	case TemplateDigest:
		if a.Counts != nil {
			v.Counts = *a.Counts
		}
		v.Link = link(s.opt.BaseURL, "/", nil)
	}
	m, err := render(a.Template, to, v)
	if err != nil {
		return jobs.Permanent(err)
	}
	if s.sender == nil {
		return jobs.Permanent(fmt.Errorf("send e-mail %s: %w", key, ErrOff))
	}
	id, err := s.sender.Send(ctx, m, key)
	var rl *RateLimitedError
	switch {
	case errors.As(err, &rl):
		return jobs.RetryAfter(fmt.Errorf("send e-mail %s: %w", key, err), rl.RetryAfter)
	case errors.Is(err, ErrRejected):
		return jobs.Permanent(fmt.Errorf("send e-mail %s: %w", key, err))
	case err != nil:
		return fmt.Errorf("send e-mail %s: %w", key, err)
	}
	return s.logOutcome(sys, key, a, "sent", id)
}

// logOutcome records what happened to key (once) and audits it.
func (s *Service) logOutcome(ctx context.Context, key string, a sendArgs, outcome, providerID string) error {
	err := s.db.Exec(ctx, "CREATE email_log CONTENT $r", map[string]any{"r": map[string]any{
		"key": key, "template": a.Template, "user_id": a.UserID, "outcome": outcome, "provider_id": providerID}})
	if errors.Is(err, store.ErrConflict) {
		return nil // an earlier attempt recorded it
	}
	if err != nil {
		return fmt.Errorf("record e-mail %s: %w", key, err)
	}
	action := "email.send"
	if outcome == "suppressed" {
		action = "email.suppressed"
	}
	if err := s.audit.Record(ctx, audit.Event{Action: action, Resource: "user", Record: a.UserID,
		Outcome: audit.OutcomeSuccess, Detail: "template=" + a.Template}); err != nil {
		return fmt.Errorf("record e-mail %s: audit: %w", key, err)
	}
	return nil
}

// Suppression is an address that is not sent to.
type Suppression struct {
	Address   string    `json:"address"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// Reasons an address is suppressed.
var suppressionReasons = []string{"bounced", "complained", "manual"}

// Suppress adds address to the suppression list (reason bounced,
// complained or manual) and audits "email.suppress". Admins and the
// system only.
func (s *Service) Suppress(ctx context.Context, address, reason string) error {
	if err := requireAdmin(ctx); err != nil {
		return fmt.Errorf("suppress address: %w", err)
	}
	address = auth.NormalizeEmail(address)
	var f fault.Fields
	if address == "" || !strings.Contains(address, "@") || len(address) > 254 {
		f.Add("email", "must be an e-mail address")
	}
	if reason == "" {
		reason = "bounced"
	}
	ok := false
	for _, r := range suppressionReasons {
		ok = ok || r == reason
	}
	if !ok {
		f.Add("reason", "must be bounced, complained or manual")
	}
	if err := f.Err(); err != nil {
		return fmt.Errorf("suppress address: %w", err)
	}
	err := s.db.Exec(ctx, "CREATE email_suppression CONTENT $r", map[string]any{"r": map[string]any{
		"address": address, "reason": reason}})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("suppress address: %w", err)
	}
	if err := s.audit.Record(ctx, audit.Event{Action: "email.suppress", Resource: "email_suppression",
		Outcome: audit.OutcomeSuccess, Detail: "reason=" + reason}); err != nil {
		return fmt.Errorf("suppress address: %w", err)
	}
	return nil
}

// Unsuppress removes address from the list (admins), audited.
func (s *Service) Unsuppress(ctx context.Context, address string) error {
	if err := requireAdmin(ctx); err != nil {
		return fmt.Errorf("unsuppress address: %w", err)
	}
	if err := s.db.Exec(ctx, "DELETE email_suppression WHERE address = $a",
		map[string]any{"a": auth.NormalizeEmail(address)}); err != nil {
		return fmt.Errorf("unsuppress address: %w", err)
	}
	if err := s.audit.Record(ctx, audit.Event{Action: "email.unsuppress", Resource: "email_suppression",
		Outcome: audit.OutcomeSuccess}); err != nil {
		return fmt.Errorf("unsuppress address: %w", err)
	}
	return nil
}

// Suppressions lists the suppressed addresses (admins).
func (s *Service) Suppressions(ctx context.Context) ([]Suppression, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, fmt.Errorf("list suppressions: %w", err)
	}
	rows, err := store.Query[[]Suppression](ctx, s.db,
		"SELECT address, reason, created_at FROM email_suppression ORDER BY created_at DESC LIMIT 1000", nil)
	if err != nil {
		return nil, fmt.Errorf("list suppressions: %w", err)
	}
	return rows, nil
}

// Suppressed reports whether address is on the suppression list.
func (s *Service) Suppressed(ctx context.Context, address string) (bool, error) {
	n, err := store.Query[[]string](ctx, s.db, "SELECT VALUE reason FROM email_suppression WHERE address = $a",
		map[string]any{"a": auth.NormalizeEmail(address)})
	if err != nil {
		return false, fmt.Errorf("read suppression list: %w", err)
	}
	return len(n) > 0, nil
}

func requireAdmin(ctx context.Context) error {
	a := actor.From(ctx)
	switch {
	case a.Role == actor.RoleAdmin || a.Role == actor.RoleSystem:
		return nil
	case a.Anonymous():
		return fault.New(fault.ErrUnauthorized, "sign in as an admin")
	}
	return fault.Newf(fault.ErrForbidden, "your role (%s) may not manage e-mail", a.Role)
}
