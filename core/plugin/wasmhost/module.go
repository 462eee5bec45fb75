package wasmhost

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/pfinni/pfinni/core/plugin/fault"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/sdk"
)

// Config describes one plugin to load.
type Config struct {
	Name         string
	Wasm         []byte
	Capabilities []string
	// Timeout bounds each call; zero means 2s.
	Timeout time.Duration
	// Uninterruptible leaves out wazero's context-done checks (several
	// times faster for Go guests): a call past its Timeout then fails only
	// when it returns. For first-party, fuzzed plugins only.
	Uninterruptible bool
	// MemoryLimit bounds linear memory in bytes (rounded down to 64 KiB
	// pages); zero means 64 MiB. A Go guest needs at least 16 MiB.
	MemoryLimit int64
	// Concurrency is the number of warm instances (and so of concurrent
	// calls); zero means 2.
	Concurrency int
	// InitConfig is the manifest entry's config as a JSON object, passed
	// to pfinni_init in every new instance.
	InitConfig json.RawMessage
}

// The exports every ABI v1 module must have.
var requiredExports = []string{"pfinni_abi_v1", "pfinni_alloc", "pfinni_free", "pfinni_init", "pfinni_handle"}

// ErrABI means a module does not implement the pfinni ABI this host
// speaks.
var ErrABI = errors.New("module does not implement the pfinni ABI v1")

// Module is a loaded plugin: a compiled module and its instance pool.
type Module struct {
	name     string
	cfg      Config
	engine   *Engine
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	caller   hostcall.Caller

	slots chan struct{}  // one token per instance that may exist
	idle  chan *instance // warm instances

	mu     sync.Mutex
	closed bool
	calls  int  // Call and Health in progress
	behind bool // Close left the runtime to the last call

	// stop is cancelled by Close: it interrupts the calls in progress
	// (through their contexts, not by closing the runtime under them).
	stop       context.Context
	stopCancel context.CancelFunc
}

// Load compiles (or fetches from the cache) and checks the module, then
// starts one instance to run pfinni_init, so that a module that cannot
// initialise is refused here rather than on its first call.
func (e *Engine) Load(ctx context.Context, cfg Config) (*Module, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = 64 << 20
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if len(cfg.InitConfig) == 0 {
		cfg.InitConfig = json.RawMessage("{}")
	}
	rc := wazero.NewRuntimeConfig().
		WithCompilationCache(e.cache).
		WithCloseOnContextDone(!cfg.Uninterruptible).
		WithMemoryLimitPages(uint32(cfg.MemoryLimit >> 16))
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	m := &Module{
		name: cfg.Name, cfg: cfg, engine: e, rt: rt,
		caller: hostcall.Caller{Plugin: cfg.Name, Capabilities: cfg.Capabilities},
		slots:  make(chan struct{}, cfg.Concurrency),
		idle:   make(chan *instance, cfg.Concurrency),
	}
	m.stop, m.stopCancel = context.WithCancel(context.Background())
	if err := m.setup(ctx); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("load wasm plugin %q: %w", cfg.Name, err)
	}
	// Warm one instance; it also proves pfinni_init succeeds.
	inst, err := m.newInstance(ctx)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("load wasm plugin %q: %w", cfg.Name, err)
	}
	m.slots <- struct{}{}
	m.idle <- inst
	e.markCached(cfg.Wasm, cfg.Uninterruptible)
	return m, nil
}

func (m *Module) setup(ctx context.Context) error {
	compiled, err := m.rt.CompileModule(ctx, m.cfg.Wasm)
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	if err := checkCompiled(compiled); err != nil {
		return err
	}
	m.compiled = compiled
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, m.rt); err != nil {
		return fmt.Errorf("wasi: %w", err)
	}
	return m.instantiateHostModule(ctx)
}

// CheckModule validates a WASM plugin without running it: it compiles
// bin (with the interpreter, which only decodes and validates) and makes
// the checks Load makes before instantiating: built as a library, this
// host's ABI, the SDK's exports, imports this host provides. `make
// plugins-check` runs it on every WASM artifact.
func CheckModule(ctx context.Context, bin []byte) error {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	compiled, err := rt.CompileModule(ctx, bin)
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	return checkCompiled(compiled)
}

// checkCompiled checks a compiled module's exports and imports.
func checkCompiled(compiled wazero.CompiledModule) error {
	exports := compiled.ExportedFunctions()
	if err := checkBuild(exports); err != nil {
		return err
	}
	for _, name := range requiredExports {
		if _, ok := exports[name]; !ok {
			return fmt.Errorf("%w: missing export %s (build it with sdk/wasm.Register)", ErrABI, name)
		}
	}
	for _, imp := range compiled.ImportedFunctions() {
		mod, name, _ := imp.Import()
		if mod != sdk.HostModule && mod != wasi_snapshot_preview1.ModuleName {
			return fmt.Errorf("%w: imports %s.%s, which this host does not provide", ErrABI, mod, name)
		}
	}
	return nil
}

// checkBuild refuses the two modules a plugin author most often builds by
// mistake, with the fix: a command (built without -buildmode=c-shared:
// it exports _start, and its exports fail with "wasmexport function
// called before runtime initialization"), and a module of another ABI
// generation (built against another major version of the SDK).
func checkBuild[T any](exports map[string]T) error {
	_, start := exports["_start"]
	_, initialize := exports["_initialize"]
	if start && !initialize {
		return fmt.Errorf("%w: the module was built as a command (it exports _start, not _initialize); "+
			"build it as a library: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .", ErrABI)
	}
	want := fmt.Sprintf("pfinni_abi_v%d", sdk.ABIVersion)
	if _, ok := exports[want]; ok {
		return nil
	}
	for name := range exports {
		if v, ok := strings.CutPrefix(name, "pfinni_abi_v"); ok {
			return fmt.Errorf("%w: the module speaks ABI v%s (built against SDK v%s.x) but this host speaks ABI v%d (SDK %s): "+
				"rebuild the plugin against github.com/pfinni/pfinni/sdk v%d.x, or run a pfinni whose SDK is v%s "+
				"(the manifest's sdk range must name the SDK the module was built with)",
				ErrABI, v, v, sdk.ABIVersion, sdk.Version, sdk.ABIVersion, v)
		}
	}
	return nil
}

// Name returns the plugin's name.
func (m *Module) Name() string { return m.name }

// Call runs hook with the JSON request in and returns the JSON result of
// a success envelope. A failure envelope is returned as *sdk.Error (the
// plugin's own, deliberate error); anything the plugin did wrong is a
// *fault.Error; ctx's own cancellation is returned as ctx.Err().
func (m *Module) Call(ctx context.Context, hook string, in []byte) (json.RawMessage, error) {
	if !m.enter() {
		return nil, fault.New(m.name, hook, fault.Unavailable, errors.New("plugin is closed"))
	}
	defer m.leave()
	inst, err := m.acquire(ctx)
	if err != nil {
		return nil, err
	}
	out, denied, callErr := inst.call(ctx, m, hook, in)
	if callErr != nil {
		m.discard(inst)
		if ctx.Err() != nil && !errors.Is(callErr, errTimeout) {
			return nil, ctx.Err()
		}
		if m.isClosed() { // Close interrupted the call (a disable that stopped waiting)
			return nil, fault.New(m.name, hook, fault.Unavailable, errors.New("plugin was stopped during the call"))
		}
		return nil, m.fault(hook, callErr, inst)
	}
	res, err := sdk.DecodeResult(out)
	if f := resultFault(err); f != "" {
		m.discard(inst) // a panicking or malformed guest may be in a bad state
		return nil, fault.New(m.name, hook, f, err)
	}
	m.release(inst)
	if len(denied) > 0 {
		return nil, fault.New(m.name, hook, fault.CapabilityDenied, errors.New(denied[0]))
	}
	return res, err
}

// Health runs the guest's pfinni_health export, if it has one.
func (m *Module) Health(ctx context.Context) error {
	if !m.enter() {
		return fault.New(m.name, "health", fault.Unavailable, errors.New("plugin is closed"))
	}
	defer m.leave()
	inst, err := m.acquire(ctx)
	if err != nil {
		return err
	}
	if inst.health == nil {
		m.release(inst)
		return nil
	}
	out, _, err := inst.invoke(ctx, m, "health", func(cctx context.Context) (uint64, error) {
		r, err := inst.health.Call(cctx)
		if err != nil {
			return 0, err
		}
		return r[0], nil
	})
	if err != nil {
		m.discard(inst)
		if ctx.Err() != nil && !errors.Is(err, errTimeout) {
			return ctx.Err()
		}
		return m.fault("health", err, inst)
	}
	m.release(inst)
	_, err = sdk.DecodeResult(out)
	return err
}

// Close closes every instance and the module's runtime. Calls in flight
// are interrupted and fail (an uninterruptible module's run to their
// end), and the last one closes the runtime; later calls return a
// fault.Unavailable error. Close does not wait for them.
func (m *Module) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.stopCancel() // interrupts what can be interrupted
	if m.calls > 0 {
		// Closing the runtime under a running guest races with the
		// guest's own system calls: the last call closes it when it
		// returns (at once when interrupted; an uninterruptible one
		// runs to its end).
		m.behind = true
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	return m.rt.Close(ctx)
}

// enter counts a call in; false once the module is closed.
func (m *Module) enter() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.calls++
	return true
}

// leave counts a call out, closing the runtime if Close left it behind
// for the last call.
func (m *Module) leave() {
	m.mu.Lock()
	m.calls--
	last := m.behind && m.calls == 0
	if last {
		m.behind = false
	}
	m.mu.Unlock()
	if last {
		_ = m.rt.Close(context.Background())
	}
}

func (m *Module) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// acquire takes a warm instance, or starts one if fewer than Concurrency
// exist, or waits for one to come back.
func (m *Module) acquire(ctx context.Context) (*instance, error) {
	if m.isClosed() {
		return nil, fault.New(m.name, "", fault.Unavailable, errors.New("plugin is closed"))
	}
	select {
	case inst := <-m.idle:
		return inst, nil
	default:
	}
	select {
	case inst := <-m.idle:
		return inst, nil
	case m.slots <- struct{}{}:
		inst, err := m.newInstance(ctx)
		if err != nil {
			<-m.slots
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fault.New(m.name, "init", fault.Trap, err)
		}
		return inst, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *Module) release(inst *instance) {
	if m.isClosed() {
		_ = inst.mod.Close(context.Background())
		<-m.slots
		return
	}
	m.idle <- inst
}

func (m *Module) discard(inst *instance) {
	_ = inst.mod.Close(context.Background())
	<-m.slots
}

// moduleConfig is the sandbox: no FS, env, args; fake clock and
// randomness unless granted.
func (m *Module) moduleConfig(inst *instance) wazero.ModuleConfig {
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize").
		WithStdout(inst.stdout).
		WithStderr(inst.stderr)
	for _, c := range m.cfg.Capabilities {
		switch c {
		case sdk.CapClock:
			mc = mc.WithSysWalltime().WithSysNanotime().WithSysNanosleep()
		case sdk.CapRandom:
			mc = mc.WithRandSource(rand.Reader)
		}
	}
	return mc
}
