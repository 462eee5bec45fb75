package alerts

import (
	"context"

	"github.com/pfinni/pfinni/core/fanout"
	"github.com/pfinni/pfinni/core/store"
)

// Subscription receives the alerts stored for one user, by any core
// instance sharing the database, as they are stored; its C is closed by
// Close or by the Service's Close.
type Subscription = fanout.Sub[Alert]

// Subscribe starts delivering the caller's new alerts. A slow consumer
// loses alerts rather than blocking the others (it can replay them with
// Since). Call Close when done.
func (s *Service) Subscribe(ctx context.Context) (*Subscription, error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.hub.Subscribe(user), nil
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
	s.hub.Publish(a.User, a)
}
