package alerts

import (
	"context"
	"fmt"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Paging of List.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// ListOptions select the caller's alerts.
type ListOptions struct {
	Unread bool // only those not yet read
	Limit  int  // 1..MaxLimit; DefaultLimit when 0
}

// Page is the newest of the caller's alerts and their unread count.
type Page struct {
	Items  []Alert `json:"items"`
	Unread int     `json:"unread"`
}

var errSignIn = fault.New(fault.ErrUnauthorized, "sign in to see your alerts")

// caller is the signed-in user in ctx, or the error to refuse with.
func caller(ctx context.Context) (string, error) {
	a := actor.From(ctx)
	if a.Anonymous() || a.Role == actor.RoleSystem {
		return "", errSignIn
	}
	return a.UserID, nil
}

// List returns the caller's alerts, newest first, with the unread count.
func (s *Service) List(ctx context.Context, o ListOptions) (Page, error) {
	user, err := caller(ctx)
	if err != nil {
		return Page{}, err
	}
	switch {
	case o.Limit == 0:
		o.Limit = DefaultLimit
	case o.Limit < 0 || o.Limit > MaxLimit:
		var f fault.Fields
		f.Add("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
		return Page{}, f.Err()
	}
	where := "user = $user"
	if o.Unread {
		where += " AND read = false"
	}
	vars := map[string]any{"user": user, "limit": o.Limit}
	rows, err := store.Query[[]row](ctx, s.d.DB, "SELECT * FROM alert WHERE "+where+" ORDER BY at DESC LIMIT $limit", vars)
	if err != nil {
		return Page{}, fmt.Errorf("list alerts: %w", err)
	}
	n, err := store.Query[int](ctx, s.d.DB, "RETURN count(SELECT id FROM alert WHERE user = $user AND read = false)", vars)
	if err != nil {
		return Page{}, fmt.Errorf("list alerts: %w", err)
	}
	p := Page{Items: make([]Alert, len(rows)), Unread: n}
	for i, r := range rows {
		p.Items[i] = r.alert()
	}
	return p, nil
}

// UnreadCounts returns the caller's unread alerts by kind (the
// assistant's "any alerts?").
func (s *Service) UnreadCounts(ctx context.Context) (map[string]int, error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.unreadByKind(ctx, user)
}

// UnreadFor counts user's unread alerts (the e-mail digest; the caller
// is the system).
func (s *Service) UnreadFor(ctx context.Context, user string) (int, error) {
	by, err := s.unreadByKind(ctx, user)
	n := 0
	for _, c := range by {
		n += c
	}
	return n, err
}

func (s *Service) unreadByKind(ctx context.Context, user string) (map[string]int, error) {
	type group struct {
		Kind  string `json:"kind"`
		Count int    `json:"count"`
	}
	gs, err := store.Query[[]group](ctx, s.d.DB,
		"SELECT kind, count() AS count FROM alert WHERE user = $user AND read = false GROUP BY kind", map[string]any{"user": user})
	if err != nil {
		return nil, fmt.Errorf("count unread alerts: %w", err)
	}
	out := make(map[string]int, len(gs))
	for _, g := range gs {
		out[g.Kind] = g.Count
	}
	return out, nil
}

// MarkRead marks one of the caller's alerts read. Another user's alert
// answers not found, like one that does not exist.
func (s *Service) MarkRead(ctx context.Context, id string) (Alert, error) {
	user, err := caller(ctx)
	if err != nil {
		return Alert{}, err
	}
	rows, err := store.Query[[]row](ctx, s.d.DB, "UPDATE $id SET read = true WHERE user = $user RETURN AFTER",
		map[string]any{"id": store.RecordID("alert", id), "user": user})
	if err != nil {
		return Alert{}, fmt.Errorf("mark alert read: %w", err)
	}
	if len(rows) == 0 {
		return Alert{}, fault.New(fault.ErrNotFound, "no such alert")
	}
	return rows[0].alert(), nil
}

// MarkAllRead marks every alert of the caller read and says how many
// were unread.
func (s *Service) MarkAllRead(ctx context.Context) (int, error) {
	user, err := caller(ctx)
	if err != nil {
		return 0, err
	}
	ids, err := store.Query[[]any](ctx, s.d.DB, "UPDATE alert SET read = true WHERE user = $user AND read = false RETURN VALUE id",
		map[string]any{"user": user})
	if err != nil {
		return 0, fmt.Errorf("mark all alerts read: %w", err)
	}
	return len(ids), nil
}

// Since returns the caller's alerts stored after the alert lastID, oldest
// first (at most ReplayLimit): what a reconnecting socket missed. An
// unknown lastID (or one of another user) replays the unread alerts.
// Alerts stored in the same instant as lastID come again; a client
// keeps the ids it has shown.
func (s *Service) Since(ctx context.Context, lastID string) ([]Alert, error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{"user": user, "limit": s.o.ReplayLimit, "last": store.RecordID("alert", lastID)}
	rows, err := store.Query[[]row](ctx, s.d.DB, `LET $at = (SELECT VALUE at FROM ONLY $last WHERE user = $user);
		IF $at = NONE {
			RETURN SELECT * FROM (SELECT * FROM alert WHERE user = $user AND read = false ORDER BY at DESC LIMIT $limit) ORDER BY at ASC;
		} ELSE {
			RETURN SELECT * FROM alert WHERE user = $user AND at >= $at AND id != $last ORDER BY at ASC LIMIT $limit;
		};`, vars)
	if err != nil {
		return nil, fmt.Errorf("replay alerts: %w", err)
	}
	out := make([]Alert, len(rows))
	for i, r := range rows {
		out[i] = r.alert()
	}
	return out, nil
}
