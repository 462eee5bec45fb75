package chat

import (
	"sync"
	"time"
)

// turnMemory remembers, per user and session, the filter of the last
// data answer (the patient list's query string, search text included), so
// that a follow-up ("only the active ones", "how many of them are over
// 65", "show them") can build on it. It lives in memory only — the stored
// history keeps the filter without its search text — and holds at most
// max conversations, dropping the least recently used.
type turnMemory struct {
	mu   sync.Mutex
	max  int
	last map[string]turn
}

type turn struct {
	query string
	at    time.Time
}

func newTurnMemory(max int) *turnMemory { return &turnMemory{max: max, last: map[string]turn{}} }

func turnKey(user, session string) string { return user + "\x00" + session }

func (m *turnMemory) get(user, session string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last[turnKey(user, session)].query
}

func (m *turnMemory) put(user, session, query string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last[turnKey(user, session)] = turn{query: query, at: at}
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
