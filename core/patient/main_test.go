package patient

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// testNow is the fixed "now" of the tests: Tuesday 10 March 2026, 15:00 UTC.
var testNow = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// testClock is a settable clock.
type testClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *testClock {
	c := &testClock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type fixture struct {
	db    *store.DB
	aud   *patienttest.Auditor
	svc   *Service
	clock *testClock
	ctx   context.Context // staff
	admin context.Context
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	db := storetest.New(t)
	return newFixtureOn(t, db, opts...)
}

func newFixtureOn(t *testing.T, db *store.DB, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{db: db, aud: &patienttest.Auditor{}, clock: newClock(testNow)}
	opts = append([]Option{WithClock(f.clock.Now), WithLocation(time.UTC)}, opts...)
	svc, err := New(context.Background(), db, f.aud, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	f.svc = svc
	f.ctx = patienttest.As(context.Background(), actor.RoleStaff)
	f.admin = patienttest.As(context.Background(), actor.RoleAdmin)
	return f
}

func (f *fixture) provider(t *testing.T) Provider {
	t.Helper()
	p, err := f.svc.CreateProvider(f.admin, ProviderInput{Name: "Dr. Test"})
	require.NoError(t, err)
	return p
}

func (f *fixture) create(t *testing.T, in Input) *Patient {
	t.Helper()
	p, err := f.svc.Create(f.ctx, in)
	require.NoError(t, err)
	return p
}

func input(mrn, first, last string) Input {
	return Input{MRN: mrn, FirstName: first, LastName: last, DateOfBirth: "1980-05-17", Sex: "female",
		Phone: "(212) 555-0142", Email: first + "." + last + "@example.org",
		Address:   Address{Line1: "1 Main St", City: "Boston", State: "MA", PostalCode: "02101", Country: "US"},
		Insurance: Insurance{Payer: "Aetna", MemberID: "M1", Group: "G1"}}
}
