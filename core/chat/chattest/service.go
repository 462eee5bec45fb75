package chattest

import (
	"context"
	"testing"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/sdk"
)

// Service is the real chat path around a plugin under test: a chat
// service over a real database and patient directory (seeded with demo
// patients), routing to in-process plugins with the registry's rules. An
// intent answers through it exactly as in pfinni: the host context it
// gets, the patient-list query it returns run as the asking user, the
// placeholders filled, the reply naming the plugin.
//
// The calling package's TestMain must run storetest.Main (it starts the
// database).
type Service struct {
	Chat     *chat.Service
	Patients *patient.Service
}

// NewService seeds n deterministic demo patients (seed 42) and builds
// the chat service over plugins, on the fixed clock now (UTC).
func NewService(t testing.TB, now time.Time, n int, plugins ...sdk.Plugin) *Service {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	clock := func() time.Time { return now }
	ps, err := patient.New(ctx, db, &patienttest.Auditor{}, patient.WithClock(clock), patient.WithLocation(time.UTC), patient.WithoutLive())
	if err != nil {
		t.Fatalf("patient directory: %v", err)
	}
	t.Cleanup(func() { _ = ps.Close() })
	if n > 0 {
		sctx, cancel := context.WithTimeout(actor.System(ctx), 10*time.Minute)
		defer cancel()
		if err := patient.Seed(sctx, ps, n, 42); err != nil {
			t.Fatalf("seed %d patients: %v", n, err)
		}
	}
	routes := &Plugins{List: plugins, Host: Host{Patients: ps}}
	svc, err := chat.New(ctx, chat.Deps{DB: db, Patients: ps, Intents: routes, Knowledge: routes, Now: clock, Location: time.UTC, Audit: &patienttest.Auditor{}}, chat.Options{})
	if err != nil {
		t.Fatalf("chat service: %v", err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	return &Service{Chat: svc, Patients: ps}
}

// Ask sends message from page as a user of role and returns the reply.
func (s *Service) Ask(role actor.Role, page, message string) (chat.Reply, error) {
	ctx := patienttest.As(context.Background(), role)
	return s.Chat.Ask(ctx, chat.Request{Message: message, Context: chat.PageContext{Page: page}})
}
