package email

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
)

// The opt-in daily digest: patients in onboarding and, of them, those
// there longer than OnboardingDays, and the recipient's unread alerts
// (Options.Alerts): counts only. It goes to admins and
// staff who turned it on (auditors do not read patient figures).

// Preferences are a user's e-mail settings.
type Preferences struct {
	DailyDigest bool `json:"daily_digest"`
}

// Preferences returns the signed-in user's settings.
func (s *Service) Preferences(ctx context.Context) (Preferences, error) {
	a := actor.From(ctx)
	if a.Anonymous() || a.Role == actor.RoleSystem {
		return Preferences{}, fmt.Errorf("read e-mail preferences: %w", fault.New(fault.ErrUnauthorized, "sign in first"))
	}
	rows, err := store.Query[[]Preferences](ctx, s.db, "SELECT daily_digest FROM $id",
		map[string]any{"id": store.RecordID("email_preference", a.UserID)})
	if err != nil {
		return Preferences{}, fmt.Errorf("read e-mail preferences: %w", err)
	}
	if len(rows) == 0 {
		return Preferences{}, nil
	}
	return rows[0], nil
}

// SetPreferences stores the signed-in user's settings. The digest is for
// admins and staff.
func (s *Service) SetPreferences(ctx context.Context, p Preferences) (Preferences, error) {
	a := actor.From(ctx)
	if a.Anonymous() || a.Role == actor.RoleSystem {
		return Preferences{}, fmt.Errorf("set e-mail preferences: %w", fault.New(fault.ErrUnauthorized, "sign in first"))
	}
	if p.DailyDigest && a.Role != actor.RoleAdmin && a.Role != actor.RoleStaff {
		var f fault.Fields
		f.Add("daily_digest", "the daily summary counts patients: only admins and staff can receive it")
		return Preferences{}, fmt.Errorf("set e-mail preferences: %w", f.Err())
	}
	if err := s.db.Exec(ctx, "UPSERT $id SET daily_digest = $d, updated_at = time::now()",
		map[string]any{"id": store.RecordID("email_preference", a.UserID), "d": p.DailyDigest}); err != nil {
		return Preferences{}, fmt.Errorf("set e-mail preferences: %w", err)
	}
	return p, nil
}

// DigestCounts computes the digest's figures now.
func (s *Service) DigestCounts(ctx context.Context) (Counts, error) {
	cut := s.opt.Now().UTC().Add(-time.Duration(s.opt.OnboardingDays) * 24 * time.Hour)
	c, err := store.Query[Counts](ctx, s.db, `RETURN {
		onboarding: count(SELECT id FROM patient WHERE status = 'onboarding'),
		onboarding_long: count(SELECT id FROM patient WHERE status = 'onboarding' AND status_changed_at < $cut)
	}`, map[string]any{"cut": cut})
	if err != nil {
		return Counts{}, fmt.Errorf("count digest figures: %w", err)
	}
	c.Days = s.opt.OnboardingDays
	return c, nil
}

// handleDigest queues one digest per opted-in admin or staff user for
// the tick's day (key email/digest/<user>/<day>: once a day each).
func (s *Service) handleDigest(ctx context.Context, j jobs.Job) error {
	if !s.Enabled() {
		return nil
	}
	var a struct {
		Cron jobs.CronArgs `json:"cron"`
	}
	if err := j.Bind(&a); err != nil {
		return jobs.Permanent(err)
	}
	tick := a.Cron.Tick
	if tick.IsZero() {
		tick = s.opt.Now()
	}
	day := tick.UTC().Format(time.DateOnly)
	ids, err := store.Query[[]string](ctx, s.db,
		`SELECT VALUE record::id(id) FROM email_preference WHERE daily_digest = true`, nil)
	if err != nil {
		return fmt.Errorf("daily digest %s: %w", day, err)
	}
	if len(ids) == 0 {
		return nil
	}
	counts, err := s.DigestCounts(ctx)
	if err != nil {
		return fmt.Errorf("daily digest %s: %w", day, err)
	}
	sys := actor.System(ctx)
	for _, id := range ids {
		u, err := s.users.GetUser(sys, id)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("daily digest %s: %w", day, err)
		}
		if u.Disabled || (u.Role != actor.RoleAdmin && u.Role != actor.RoleStaff) {
			continue
		}
		c := counts
		if s.opt.Alerts != nil {
			if c.Alerts, err = s.opt.Alerts.UnreadFor(ctx, id); err != nil {
				return fmt.Errorf("daily digest %s: %w", day, err)
			}
		}
		if err := s.enqueue(ctx, sendArgs{Template: TemplateDigest, UserID: id, Day: day, Counts: &c,
			Key: "email/digest/" + id + "/" + day}); err != nil {
			return fmt.Errorf("daily digest %s: %w", day, err)
		}
	}
	return nil
}
