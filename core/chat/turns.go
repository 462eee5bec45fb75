package chat

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/sdk"
)

// turnMemory remembers, per user and session, the filter of the last
// data answer (the patient list's query string), so that a follow-up
// ("only the active ones", "how many of them are over 65", "show them")
// can build on it. It holds at most max conversations, dropping the least
// recently answered.
//
// It is a cache of what the history keeps: this instance's own answers
// (their whole filter, search text included, in memory only), the
// answers of other instances as their history rows arrive on the live
// query, and, for a conversation it does not know, the last data answer
// read from the history (loadTurn). The history keeps a filter only when
// it holds no search text or tag (turnOf): after a name search answered
// on another instance a follow-up is not understood here, rather than
// widened to every patient (docs/chat.md, "Follow-ups").
type turnMemory struct {
	mu   sync.Mutex
	max  int
	last map[string]turn
}

// turn is the last data answer of a conversation: its filter ("" when
// there is none to build on) and when it was given.
type turn struct {
	query string
	at    time.Time
}

func newTurnMemory(max int) *turnMemory { return &turnMemory{max: max, last: map[string]turn{}} }

func turnKey(user, session string) string { return user + "\x00" + session }

// get returns the conversation's last turn; ok is false when this
// instance has not seen the conversation.
func (m *turnMemory) get(user, session string) (turn, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.last[turnKey(user, session)]
	return t, ok
}

// put records t unless a later turn of the conversation is known.
func (m *turnMemory) put(user, session string, t turn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := turnKey(user, session)
	if cur, ok := m.last[k]; ok && cur.at.After(t.at) {
		return
	}
	m.last[k] = t
	if len(m.last) <= m.max {
		return
	}
	oldest, first := "", true
	var when time.Time
	for k, t := range m.last {
		if first || t.at.Before(when) {
			oldest, when, first = k, t.at, false
		}
	}
	delete(m.last, oldest)
}

// Values of a history row's turn field (chat_message.turn): "" for an
// answer that is not about a set of patients, turnNotKept for one whose
// filter the history does not keep whole, else "?" and the filter.
const turnNotKept = "-"

// turnOf is the turn field of an answer with the patient-list query q:
// the filter when it names no search text and no tag (the history keeps
// no free text), turnNotKept otherwise.
func turnOf(q string) string {
	vals, err := url.ParseQuery(q)
	if err != nil || vals.Has(sdk.FilterText) || vals.Has(sdk.FilterTag) {
		return turnNotKept
	}
	return "?" + q
}

// turnFrom reads a turn field back.
func turnFrom(field string, at time.Time) turn {
	q, ok := strings.CutPrefix(field, "?")
	if !ok { // turnNotKept
		q = ""
	}
	return turn{query: q, at: at}
}

// previous is the filter a follow-up in the conversation builds on, or "".
func (s *Service) previous(ctx context.Context, user, session string) string {
	if t, ok := s.turns.get(user, session); ok {
		return t.query
	}
	t, err := s.loadTurn(ctx, user, session)
	if err != nil {
		s.d.Logger.WarnContext(ctx, "chat follow-up memory", "err", err)
		return ""
	}
	s.turns.put(user, session, t)
	return t.query
}

// loadTurn reads the last data answer of the conversation from the
// history; the zero turn when there is none.
func (s *Service) loadTurn(ctx context.Context, user, session string) (turn, error) {
	rows, err := store.Query[[]messageRow](ctx, s.d.DB,
		"SELECT turn, at FROM chat_message WHERE user = $user AND session = $sess AND role = 'assistant' AND turn != '' ORDER BY at DESC LIMIT 1",
		map[string]any{"user": user, "sess": session})
	if err != nil {
		return turn{}, fmt.Errorf("load previous turn: %w", err)
	}
	if len(rows) == 0 {
		return turn{}, nil
	}
	return turnFrom(rows[0].Turn, rows[0].At.Time), nil
}

// learnTurn keeps the turn of another instance's answer (a history row
// on the live query).
func (s *Service) learnTurn(row messageRow) {
	if row.Role != "assistant" || row.Turn == "" || row.Instance == s.d.Instance {
		return
	}
	s.turns.put(row.User, row.Session, turnFrom(row.Turn, row.At.Time))
}
