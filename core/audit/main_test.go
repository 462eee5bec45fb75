package audit_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// newLog opens a Log on db that is closed when the test ends.
func newLog(t testing.TB, db *store.DB, opts audit.Options) *audit.Log {
	t.Helper()
	l := audit.New(db, opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, l.Close(ctx))
	})
	return l
}

// as returns a context acting as a user with role r.
func as(r actor.Role, user string) context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: user, Role: r, RequestID: "req-" + user, IP: "10.0.0.7"})
}

var (
	staff   = as(actor.RoleStaff, "u_staff")
	admin   = as(actor.RoleAdmin, "u_admin")
	auditor = as(actor.RoleAuditor, "u_auditor")
	system  = actor.System(context.Background())
)

// clock is a fake time source that advances one second per call.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(start time.Time) *clock { return &clock{t: start} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// read is a patient.read event for record.
func read(record string) audit.Event {
	return audit.Event{Action: "patient.read", Resource: "patient", Record: record, Outcome: audit.OutcomeSuccess}
}

// rawEvents returns every stored event in seq order (no audit, no auth).
func rawEvents(t testing.TB, db *store.DB) []audit.Event {
	t.Helper()
	evs, err := store.Query[[]audit.Event](context.Background(), db, "SELECT * FROM audit ORDER BY seq", nil)
	require.NoError(t, err)
	return evs
}
