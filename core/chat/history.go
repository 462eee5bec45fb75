package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Message is one stored chat message, as kept: identifiers removed.
type Message struct {
	ID          string         `json:"id"`
	Session     string         `json:"session"`
	Role        string         `json:"role"` // user | assistant | alert
	Text        string         `json:"text"`
	Intent      string         `json:"intent,omitempty"`
	Page        string         `json:"page,omitempty"`
	Data        map[string]any `json:"data,omitempty"`
	Actions     []Action       `json:"actions,omitempty"`
	Suggestions []string       `json:"suggestions,omitempty"`
	At          time.Time      `json:"at"`
}

// messageRow is the chat_message table's shape.
type messageRow struct {
	ID          *models.RecordID `json:"id,omitempty"`
	User        string           `json:"user"`
	Session     string           `json:"session"`
	Role        string           `json:"role"`
	Text        string           `json:"text"`
	Intent      string           `json:"intent"`
	Page        string           `json:"page"`
	Data        string           `json:"data"`
	Actions     string           `json:"actions"`
	Suggestions []string         `json:"suggestions"`
	Instance    string           `json:"instance"`
	// At is a SurrealDB datetime: a time.Time would be sent as RFC 3339
	// without its fraction of a second, and a user's message and the
	// reply to it would tie.
	At models.CustomDateTime `json:"at"`
}

func (r messageRow) message() Message {
	m := Message{Session: r.Session, Role: r.Role, Text: r.Text, Intent: r.Intent, Page: r.Page, Suggestions: r.Suggestions, At: r.At.Time}
	if r.ID != nil {
		m.ID = store.Key(*r.ID)
	}
	if r.Data != "" {
		_ = json.Unmarshal([]byte(r.Data), &m.Data)
	}
	if r.Actions != "" {
		_ = json.Unmarshal([]byte(r.Actions), &m.Actions)
	}
	return m
}

// store scrubs the exchange and stores both messages.
func (s *Service) store(ctx context.Context, a actor.Actor, req Request, r Reply) error {
	var v *vocabulary
	if vv, err := s.vocab.get(ctx); err == nil {
		v = vv
	}
	sc := newScrubber(v)
	if q, ok := r.Data["query"].(string); ok {
		if vals, err := parseQuery(q); err == nil && vals.Get("q") != "" {
			sc.addName(vals.Get("q"))
		}
	}
	now := r.At
	user := messageRow{
		User: a.UserID, Session: req.Session, Role: "user", Text: sc.Text(req.Message), Page: req.Context.Page,
		Suggestions: []string{}, Instance: s.d.Instance, At: dbTime(now),
	}
	asst := messageRow{
		User: a.UserID, Session: req.Session, Role: "assistant", Text: sc.Text(r.Reply), Intent: r.Intent, Page: req.Context.Page,
		Suggestions: sc.Value("suggestions", r.Suggestions).([]string), Instance: s.d.Instance, At: dbTime(now.Add(time.Microsecond)),
	}
	if r.Data != nil {
		b, _ := json.Marshal(sc.Value("data", jsonValue(r.Data)))
		asst.Data = string(b)
	}
	if len(r.Actions) > 0 {
		b, _ := json.Marshal(sc.Value("actions", jsonValue(r.Actions)))
		asst.Actions = string(b)
	}
	err := s.d.DB.Exec(ctx, "INSERT INTO chat_message $rows RETURN NONE", map[string]any{"rows": []messageRow{user, asst}})
	if err != nil {
		return fmt.Errorf("store chat message: %w", err)
	}
	return nil
}

// jsonValue round-trips v through JSON so the scrubber sees plain maps,
// slices and strings.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// History returns the caller's stored messages, oldest first: the last
// limit (default and cap HistoryLimit) of session, or of all sessions
// when session is empty.
func (s *Service) History(ctx context.Context, session string, limit int) ([]Message, error) {
	a := actor.From(ctx)
	if a.Anonymous() {
		return nil, fault.New(fault.ErrUnauthorized, "sign in to see your chat history")
	}
	if limit <= 0 || limit > s.o.HistoryLimit {
		limit = s.o.HistoryLimit
	}
	where := "user = $user"
	vars := map[string]any{"user": a.UserID, "limit": limit}
	if session != "" {
		where += " AND session = $session"
		vars["session"] = session
	}
	rows, err := store.Query[[]messageRow](ctx, s.d.DB,
		"SELECT * FROM chat_message WHERE "+where+" ORDER BY at DESC LIMIT $limit", vars)
	if err != nil {
		return nil, fmt.Errorf("chat history: %w", err)
	}
	out := make([]Message, len(rows))
	for i, r := range rows {
		out[len(rows)-1-i] = r.message()
	}
	return out, nil
}

// Subscription receives the stored messages of one user, from every core
// instance sharing the database, as they are stored.
type Subscription struct {
	C    <-chan Message
	c    chan Message
	user string
	s    *Service
	done bool
}

// Subscribe starts delivering the user's new messages. A slow consumer
// loses messages rather than blocking the others (it can reload the
// history). Call Close when done.
func (s *Service) Subscribe(ctx context.Context) (*Subscription, error) {
	a := actor.From(ctx)
	if a.Anonymous() {
		return nil, fault.New(fault.ErrUnauthorized, "sign in to use the assistant")
	}
	c := make(chan Message, 64)
	sub := &Subscription{C: c, c: c, user: a.UserID, s: s}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if s.subs[a.UserID] == nil {
		s.subs[a.UserID] = map[*Subscription]struct{}{}
	}
	s.subs[a.UserID][sub] = struct{}{}
	return sub, nil
}

// Close stops the subscription and closes C.
func (sub *Subscription) Close() {
	sub.s.subMu.Lock()
	defer sub.s.subMu.Unlock()
	if set := sub.s.subs[sub.user]; set != nil {
		delete(set, sub)
		if len(set) == 0 {
			delete(sub.s.subs, sub.user)
		}
	}
	sub.close()
}

// close closes C once; called with subMu held.
func (sub *Subscription) close() {
	if !sub.done {
		sub.done = true
		close(sub.c)
	}
}

// onMessage delivers a stored message to its user's subscribers here.
func (s *Service) onMessage(ch store.Change) {
	if ch.Action != "CREATE" {
		return
	}
	var row messageRow
	if err := ch.Decode(&row); err != nil {
		s.d.Logger.Warn("decode chat message", "err", err)
		return
	}
	m := row.message()
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for sub := range s.subs[row.User] {
		select {
		case sub.c <- m:
		default:
		}
	}
}

// Alert stores an alert for user (pushed to the user's open panels).
func (s *Service) Alert(ctx context.Context, user, text string, data map[string]any) error {
	sc := newScrubber(nil)
	if v, err := s.vocab.get(ctx); err == nil {
		sc = newScrubber(v)
	}
	row := messageRow{User: user, Session: "alerts", Role: "alert", Text: sc.Text(text), Suggestions: []string{}, Instance: s.d.Instance, At: dbTime(s.now())}
	if data != nil {
		b, _ := json.Marshal(sc.Value("data", jsonValue(data)))
		row.Data = string(b)
	}
	if err := s.d.DB.Exec(ctx, "CREATE chat_message CONTENT $row RETURN NONE", map[string]any{"row": row}); err != nil {
		return fmt.Errorf("store chat alert: %w", err)
	}
	return nil
}

// dbTime makes t a SurrealDB datetime that keeps its nanoseconds.
func dbTime(t time.Time) models.CustomDateTime { return models.CustomDateTime{Time: t.UTC()} }
