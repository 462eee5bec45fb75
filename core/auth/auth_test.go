package auth

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// events collects audit events like *audit.Log would store them.
type events struct {
	mu   sync.Mutex
	list []audit.Event
	fail error
}

var _ Auditor = (*events)(nil)

func (e *events) Record(ctx context.Context, ev audit.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fail != nil {
		return e.fail
	}
	a := actor.From(ctx)
	if ev.Actor == "" {
		ev.Actor = a.UserID
	}
	if ev.Role == "" {
		ev.Role = string(a.Role)
	}
	ev.RequestID, ev.IP = a.RequestID, a.IP
	e.list = append(e.list, ev)
	return nil
}

func (e *events) all() []audit.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]audit.Event(nil), e.list...)
}

// actions lists "action outcome" of every event, in order.
func (e *events) actions() []string {
	var out []string
	for _, ev := range e.all() {
		out = append(out, ev.Action+" "+ev.Outcome)
	}
	return out
}

func (e *events) reset() {
	e.mu.Lock()
	e.list = nil
	e.mu.Unlock()
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fastHash keeps tests quick; the benchmark uses the real cost.
var fastHash = HashParams{Memory: 256, Time: 1, Threads: 1}

type fixture struct {
	db    *store.DB
	svc   *Service
	ev    *events
	clock *clock
	admin context.Context // acting as a signed-in admin
}

func newFixture(t *testing.T, opt Options) *fixture {
	t.Helper()
	f := &fixture{db: storetest.New(t), ev: &events{}, clock: newClock()}
	if opt.Hash == (HashParams{}) {
		opt.Hash = fastHash
	}
	if opt.Now == nil {
		opt.Now = f.clock.Now
	}
	if opt.LoginsPerIPPerMinute == 0 {
		opt.LoginsPerIPPerMinute = 1000
	}
	f.svc = New(f.db, f.ev, opt)
	f.admin = actor.With(context.Background(), actor.Actor{UserID: "boss", Role: actor.RoleAdmin, RequestID: "req-admin", IP: "10.0.0.1"})
	return f
}

// user creates a user with password "correct horse battery".
func (f *fixture) user(t *testing.T, email string, role actor.Role) User {
	t.Helper()
	u, err := f.svc.CreateUser(f.admin, NewUser{Email: email, Name: "Test " + string(role), Role: role, Password: testPassword})
	require.NoError(t, err)
	return u
}

const testPassword = "correct horse battery"

// client is the context of an anonymous request from ip.
func client(ip string) context.Context {
	return actor.With(context.Background(), actor.Actor{RequestID: "req-" + ip, IP: ip})
}

func TestNewRefusesNilAuditor(t *testing.T) {
	assert.Panics(t, func() { New(nil, nil, Options{}) })
}

func TestOptions(t *testing.T) {
	cfg := &config.Config{SessionIdleTimeout: 10 * time.Minute, SessionMaxLifetime: 8 * time.Hour, LoginMaxFailures: 3, LockoutDuration: 5 * time.Minute}
	o := OptionsFrom(cfg).withDefaults()
	assert.Equal(t, 10*time.Minute, o.IdleTimeout)
	assert.Equal(t, 8*time.Hour, o.MaxLifetime)
	assert.Equal(t, 3, o.MaxFailures)
	assert.Equal(t, 5*time.Minute, o.LockoutDuration)
	assert.Equal(t, 20, o.LoginsPerIPPerMinute)
	assert.Equal(t, 3*time.Second, o.CacheTTL)
	assert.Equal(t, 30*time.Second, o.TouchEvery)
	assert.Equal(t, DefaultHashParams, o.Hash)

	d := Options{IdleTimeout: time.Hour, MaxLifetime: time.Minute}.withDefaults()
	assert.Equal(t, time.Hour, d.MaxLifetime, "lifetime is never shorter than the idle timeout")
	assert.Equal(t, 15*time.Minute, Options{}.withDefaults().IdleTimeout)
	assert.Equal(t, 15*time.Minute, New(nil, &events{}, Options{}).IdleTimeout())
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		15 * time.Minute:                "15 minutes",
		time.Minute:                     "1 minute",
		time.Hour:                       "1 hour",
		12 * time.Hour:                  "12 hours",
		90 * time.Second:                "90 seconds",
		time.Second:                     "1 second",
		14*time.Minute + 10*time.Second: "15 minutes",
		300 * time.Millisecond:          "1 second",
	} {
		assert.Equal(t, want, human(d), d.String())
	}
}

func TestAuditFailureFailsTheOperation(t *testing.T) {
	f := newFixture(t, Options{})
	f.ev.fail = errors.New("audit store down")
	_, err := f.svc.CreateUser(f.admin, NewUser{Email: "a@x.example", Name: "A", Role: actor.RoleStaff, Password: testPassword})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "record audit event user.create")
}
