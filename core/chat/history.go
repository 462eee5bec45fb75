package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fanout"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/sdk"
)

// Message is one stored chat message, as kept: built from the intent, the
// page id, typed values, record references and checked text only (see
// store and docs/chat.md, "PHI-free history").
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
	// Turn is what a follow-up may build on (turnOf): set on the
	// assistant's row of a data answer.
	Turn string `json:"turn"`
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

// exchange is what store keeps of one question and its answer.
type exchange struct {
	session string
	page    string // a page id (already normalised)
	// userText is the user's message, checked by the redactor, or a
	// template of the core's own (then trusted is set).
	userText string
	trusted  bool
	reply    Reply
}

// store keeps the exchange in the user's history, by construction:
//   - the user's text only after the redactor kept nothing but everyday
//     and pfinni words that are no patient's name; NotStored when the
//     patient directory cannot answer (fail closed);
//   - the reply's text with patients' names and the user's other words
//     removed; only the intent when the directory cannot answer;
//   - data reduced to typed values and record references (storedData);
//   - actions reduced to their type, a checked label, a safe target and
//     typed parameters (storedActions) — never a reason.
func (s *Service) store(ctx context.Context, a actor.Actor, x exchange) error {
	if err := s.writer.write(ctx, s.historyRows(ctx, a, x)...); err != nil {
		return fmt.Errorf("store chat message: %w", err)
	}
	return nil
}

// storeLater is store without waiting: the rows are queued for the
// history writer (see historyWriter). It fails only when the Service is
// closed.
func (s *Service) storeLater(ctx context.Context, a actor.Actor, x exchange) error {
	if err := s.writer.enqueue(ctx, s.historyRows(ctx, a, x)...); err != nil {
		return fmt.Errorf("store chat message: %w", err)
	}
	return nil
}

// historyRows builds the stored rows of an exchange (see store).
func (s *Service) historyRows(ctx context.Context, a actor.Actor, x exchange) []messageRow {
	r := x.reply
	texts := append([]string{r.Reply}, r.Suggestions...)
	for _, act := range r.Actions {
		texts = append(texts, act.Label)
	}
	user := x.userText
	if x.trusted {
		user = ""
	}
	red, err := s.newRedactor(ctx, user, texts...)
	if err != nil {
		s.d.Logger.WarnContext(ctx, "chat history keeps no text", "reason", "directory unavailable", "err", err)
		red = nil
	}
	userText := x.userText
	if !x.trusted {
		userText = red.UserText(x.userText)
	}
	asstText := red.Text(r.Reply)
	if red == nil {
		asstText = "[reply not stored]"
	}
	userRow := messageRow{
		User: a.UserID, Session: x.session, Role: "user", Text: userText, Intent: r.Intent, Page: x.page,
		Suggestions: []string{}, Instance: s.d.Instance, At: dbTime(r.At),
	}
	asst := messageRow{
		User: a.UserID, Session: x.session, Role: "assistant", Text: asstText, Intent: r.Intent, Page: x.page,
		Suggestions: red.Texts(r.Suggestions), Instance: s.d.Instance, At: dbTime(r.At.Add(time.Microsecond)),
	}
	if q, ok := r.Data[sdk.DataQuery].(string); ok {
		asst.Turn = turnOf(q)
	}
	if d := storedData(r.Data, red); len(d) > 0 {
		b, _ := json.Marshal(d)
		asst.Data = string(b)
	}
	if acts := storedActions(r.Actions, red); len(acts) > 0 {
		b, _ := json.Marshal(acts)
		asst.Actions = string(b)
	}
	return []messageRow{userRow, asst}
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
	// The answers this instance gave are in the history once their
	// queued rows are stored.
	if err := s.writer.flush(ctx); err != nil {
		return nil, fmt.Errorf("chat history: %w", err)
	}
	where := "user = $user"
	vars := map[string]any{"user": a.UserID, "limit": limit}
	if session != "" {
		where += " AND session = $sess"
		vars["sess"] = session
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
// instance sharing the database, as they are stored; its C is closed by
// Close or by the Service's Close.
type Subscription = fanout.Sub[Message]

// Subscribe starts delivering the user's new messages. A slow consumer
// loses messages rather than blocking the others (it can reload the
// history). Call Close when done.
func (s *Service) Subscribe(ctx context.Context) (*Subscription, error) {
	a := actor.From(ctx)
	if a.Anonymous() {
		return nil, errSignIn
	}
	return s.hub.Subscribe(a.UserID), nil
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
	s.learnTurn(row)
	s.hub.Publish(row.User, row.message())
}

// dbTime makes t a SurrealDB datetime that keeps its nanoseconds.
func dbTime(t time.Time) models.CustomDateTime { return models.CustomDateTime{Time: t.UTC()} }
