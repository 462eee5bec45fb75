package alerts

import (
	"context"

	"github.com/pfinni/pfinni/core/store"
)

// Subscription receives the alerts stored for one user, by any core
// instance sharing the database, as they are stored.
type Subscription struct {
	C    <-chan Alert
	c    chan Alert
	user string
	s    *Service
	done bool
}

// Subscribe starts delivering the caller's new alerts. A slow consumer
// loses alerts rather than blocking the others (it can replay them with
// Since). Call Close when done.
func (s *Service) Subscribe(ctx context.Context) (*Subscription, error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	c := make(chan Alert, 64)
	sub := &Subscription{C: c, c: c, user: user, s: s}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if s.subs[user] == nil {
		s.subs[user] = map[*Subscription]struct{}{}
	}
	s.subs[user][sub] = struct{}{}
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

// onChange hands a newly stored alert to its user's subscribers here.
func (s *Service) onChange(ch store.Change) {
	if ch.Action != "CREATE" {
		return
	}
	var r row
	if err := ch.Decode(&r); err != nil {
		s.d.Logger.Warn("decode alert", "err", err)
		return
	}
	a := r.alert()
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for sub := range s.subs[a.User] {
		select {
		case sub.c <- a:
		default:
		}
	}
}
