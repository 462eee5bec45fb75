// Package fanout hands values to the subscribers of a key (a user id)
// within one process: the last step of the cross-instance delivery of
// chat messages (core/chat) and alerts (core/alerts), whose live queries
// on SurrealDB call Publish on every instance. A slow subscriber loses
// values rather than blocking the publisher or the other subscribers
// (each can reload what it missed from the database).
//
// Imported by core services only. A Hub is safe for concurrent use.
package fanout

import "sync"

// Hub is a set of subscriptions by key.
type Hub[T any] struct {
	buf    int
	mu     sync.Mutex
	subs   map[string]map[*Sub[T]]struct{}
	closed bool
}

// New returns a Hub whose subscriptions buffer buf values each.
func New[T any](buf int) *Hub[T] {
	return &Hub[T]{buf: buf, subs: map[string]map[*Sub[T]]struct{}{}}
}

// Sub is one subscription: its values arrive on C, which is closed by
// Close or by the Hub's Close.
type Sub[T any] struct {
	C    <-chan T
	c    chan T
	key  string
	h    *Hub[T]
	done bool
}

// Subscribe starts delivering the values published for key. On a
// closed Hub the subscription is closed at once.
func (h *Hub[T]) Subscribe(key string) *Sub[T] {
	c := make(chan T, h.buf)
	s := &Sub[T]{C: c, c: c, key: key, h: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.close()
		return s
	}
	if h.subs[key] == nil {
		h.subs[key] = map[*Sub[T]]struct{}{}
	}
	h.subs[key][s] = struct{}{}
	return s
}

// Publish hands v to every subscription of key that has room for it.
func (h *Hub[T]) Publish(key string, v T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[key] {
		select {
		case s.c <- v:
		default:
		}
	}
}

// Close closes every subscription; later ones are closed at once.
func (h *Hub[T]) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, set := range h.subs {
		for s := range set {
			s.close()
		}
	}
	h.subs = map[string]map[*Sub[T]]struct{}{}
}

// Close ends the subscription and closes C (once).
func (s *Sub[T]) Close() {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if set := s.h.subs[s.key]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(s.h.subs, s.key)
		}
	}
	s.close()
}

// close closes C once; called with the Hub's lock held.
func (s *Sub[T]) close() {
	if !s.done {
		s.done = true
		close(s.c)
	}
}
