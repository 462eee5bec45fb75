package wasmhost

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/sdk"
)

// wasmBin holds every stub module, built once per test binary.
var wasmBin = map[string][]byte{}

// sharedCache is the machine-wide test compilation cache, so each module
// compiles once.
var sharedCache string

var stubs = []string{"stub-echo", "stub-slow", "stub-trap", "stub-oom", "stub-bad-abi", "stub-greedy", "stub-malformed"}

func TestMain(m *testing.M) {
	for _, s := range stubs {
		p, err := plugintest.BuildWASM("plugins/" + s)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		wasmBin[s] = b
	}
	sharedCache = plugintest.CacheDir()
	os.Exit(m.Run())
}

// logSink collects log records as text.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSink) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := r.Message
	r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
	l.lines = append(l.lines, s)
	return nil
}
func (l *logSink) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logSink) WithGroup(string) slog.Handler      { return l }
func (l *logSink) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

type fixture struct {
	engine *Engine
	audit  *plugintest.Audit
	logs   *logSink
}

var patients = []sdk.PatientSummary{
	{ID: "patient:1", MRN: "MRN001", FirstName: "Ada", LastName: "Lovelace", Status: "active", ProviderID: "provider:1"},
	{ID: "patient:2", MRN: "MRN002", FirstName: "Alan", LastName: "Turing", Status: "churned", ProviderID: "provider:2"},
	{ID: "patient:3", MRN: "MRN003", FirstName: "Grace", LastName: "Hopper", Status: "active", ProviderID: "provider:1"},
}

func newFixture(t testing.TB, cacheDir string) *fixture {
	f := &fixture{audit: &plugintest.Audit{}, logs: &logSink{}}
	d := hostcall.New(hostcall.Services{
		Patients: &plugintest.Patients{List: patients},
		KB:       &plugintest.KB{Articles: []sdk.Article{{ID: "a1", Title: "HIPAA basics"}}},
		Audit:    f.audit,
		Logger:   slog.New(f.logs),
	})
	if cacheDir == "" {
		cacheDir = sharedCache
	}
	e, err := NewEngine(EngineConfig{CacheDir: cacheDir, Host: d})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	f.engine = e
	return f
}

func (f *fixture) load(t testing.TB, cfg Config) *Module {
	if cfg.Wasm == nil {
		cfg.Wasm = wasmBin[cfg.Name]
	}
	m, err := f.engine.Load(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

func staff() context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: "user:7", Role: actor.RoleStaff, RequestID: "req-1"})
}

func filepathGlob(dir string) ([]string, error) {
	var out []string
	err := filepathWalk(dir, &out)
	return out, err
}

func filepathWalk(dir string, out *[]string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := filepathWalk(dir+"/"+e.Name(), out); err != nil {
				return err
			}
			continue
		}
		*out = append(*out, e.Name())
	}
	return nil
}
