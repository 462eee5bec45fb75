package chat_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/chat/chattest"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/plugins/intent-guide/guide"
	"github.com/pfinni/pfinni/plugins/intent-insights/insights"
	"github.com/pfinni/pfinni/plugins/intent-insurance/coverage"
	"github.com/pfinni/pfinni/plugins/intent-patients/patients"
	"github.com/pfinni/pfinni/plugins/kb-guide/guidekb"
	"github.com/pfinni/pfinni/plugins/kb-hipaa/hipaa"
	"github.com/pfinni/pfinni/sdk"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// evalNow is the fixed "now" of every chat test: the practice's clock.
var evalNow = time.Date(2026, 3, 18, 15, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return evalNow }

// env is a chat service over a real database and patient service.
type env struct {
	db       *store.DB
	cfg      store.Config
	patients *patient.Service
	audit    *patienttest.Auditor
	plugins  *chattest.Plugins
	chat     *chat.Service
}

// nativePlugins are the first-party chat plugins, in process.
func nativePlugins() []sdk.Plugin {
	return []sdk.Plugin{
		{Name: "intent-patients", Intent: patients.Handler{Now: fixedNow}},
		{Name: "intent-insights", Intent: insights.Handler{Now: fixedNow}},
		{Name: "intent-guide", Intent: guide.Handler{}},
		{Name: "intent-insurance", Intent: coverage.Handler{}},
		{Name: "kb-hipaa", Knowledge: hipaa.Module()},
		{Name: "kb-guide", Knowledge: guidekb.Module()},
	}
}

func system(ctx context.Context) context.Context {
	return actor.With(ctx, actor.Actor{UserID: "system:test", Role: actor.RoleSystem})
}

// newEnv seeds n demo patients (seed 42) and builds the chat service.
func newEnv(t testing.TB, n int, opts ...func(*chat.Deps)) *env {
	t.Helper()
	ctx := context.Background()
	cfg := storetest.Config(t)
	db := open(t, cfg)
	t.Cleanup(func() { _ = db.Exec(context.Background(), "REMOVE DATABASE IF EXISTS "+cfg.Database, nil) })
	aud := &patienttest.Auditor{}
	ps, err := patient.New(ctx, db, aud, patient.WithClock(fixedNow), patient.WithLocation(time.UTC), patient.WithoutLive())
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	if n > 0 {
		// A generous deadline: seeding 10,000 patients on a busy machine
		// outlasts the store's default per-query timeout.
		sctx, cancel := context.WithTimeout(system(ctx), 10*time.Minute)
		require.NoError(t, patient.Seed(sctx, ps, n, 42))
		cancel()
	}
	e := &env{db: db, cfg: cfg, patients: ps, audit: aud}
	e.plugins = &chattest.Plugins{List: nativePlugins(), Host: chattest.Host{Patients: ps}}
	d := chat.Deps{DB: db, Patients: ps, Intents: e.plugins, Knowledge: e.plugins, Now: fixedNow, Location: time.UTC, Audit: aud}
	for _, o := range opts {
		o(&d)
	}
	e.chat, err = chat.New(ctx, d, chat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.chat.Close() })
	return e
}

// as returns a context acting as a user of role.
func as(role actor.Role) context.Context {
	return patienttest.As(context.Background(), role)
}

// open connects to the database of cfg (applying the schema) and closes
// the connection when the test ends.
func open(t testing.TB, cfg store.Config) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}
