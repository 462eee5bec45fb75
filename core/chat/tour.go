package chat

import (
	"context"
	"fmt"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Tour is a user's progress through the welcome tour.
type Tour struct {
	Step    int  `json:"step"`
	Done    bool `json:"done"`
	Started bool `json:"started"`
}

type tourRow struct {
	User string `json:"user"`
	Step int    `json:"step"`
	Done bool   `json:"done"`
}

// tour reads user's tour progress (zero when never started).
func (s *Service) tour(ctx context.Context, user string) (Tour, error) {
	rows, err := store.Query[[]tourRow](ctx, s.d.DB, "SELECT user, step, done FROM chat_tour WHERE user = $user", map[string]any{"user": user})
	if err != nil {
		return Tour{}, fmt.Errorf("read tour: %w", err)
	}
	if len(rows) == 0 {
		return Tour{}, nil
	}
	return Tour{Step: rows[0].Step, Done: rows[0].Done, Started: true}, nil
}

// Tour returns the caller's tour progress; a user who never started it
// is due the tour (the panel starts it on first sign-in).
func (s *Service) Tour(ctx context.Context) (Tour, error) {
	a := actor.From(ctx)
	if a.Anonymous() {
		return Tour{}, fault.New(fault.ErrUnauthorized, "sign in first")
	}
	return s.tour(ctx, a.UserID)
}

// SaveTour records the caller's tour step (resumable) or completion.
func (s *Service) SaveTour(ctx context.Context, t Tour) (Tour, error) {
	a := actor.From(ctx)
	if a.Anonymous() {
		return Tour{}, fault.New(fault.ErrUnauthorized, "sign in first")
	}
	if t.Step < 0 || t.Step > 100 {
		var f fault.Fields
		f.Add("step", "must be from 0 to 100")
		return Tour{}, f.Err()
	}
	err := s.d.DB.Exec(ctx, "UPSERT $rid CONTENT {user: $user, step: $step, done: $done, updated_at: time::now()} RETURN NONE",
		map[string]any{"rid": store.RecordID("chat_tour", tourKey(a.UserID)), "user": a.UserID, "step": t.Step, "done": t.Done})
	if err != nil {
		return Tour{}, fmt.Errorf("save tour: %w", err)
	}
	return Tour{Step: t.Step, Done: t.Done, Started: true}, nil
}

// tourKey makes a record key of a user id (which may carry a table prefix).
func tourKey(user string) string {
	b := []byte(user)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
