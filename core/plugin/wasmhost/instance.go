package wasmhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/pfinni/pfinni/core/plugin/fault"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/sdk"
)

var (
	errTimeout   = errors.New("call exceeded its time limit")
	errMalformed = sdk.ErrMalformed // also for guest-memory faults
)

// MaxResult bounds the size of one guest result (16 MiB).
const MaxResult = 16 << 20

// initTimeout bounds instantiation plus pfinni_init (the Go runtime start
// takes a few milliseconds; package init may do more).
const initTimeout = 5 * time.Second

// instance is one instantiated module. It serves one call at a time.
type instance struct {
	mod                         api.Module
	alloc, free, handle, health api.Function
	stdout, stderr              *output
	scratch                     uint32 // guest buffer of scratchSize bytes for call arguments, 0 until first use
}

// scratchSize is the argument buffer kept per instance; larger arguments
// get a buffer of their own for one call.
const scratchSize = 64 << 10

// callState travels in the context of a guest call so that host
// functions can count capability refusals.
type callState struct {
	mu     sync.Mutex
	denied []string
}

func (st *callState) deny(reason string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.denied = append(st.denied, reason)
}

func (st *callState) refusals() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.denied
}

type callStateKey struct{}

func (m *Module) newInstance(ctx context.Context) (*instance, error) {
	ictx, cancel := context.WithTimeout(ctx, max(m.cfg.Timeout, initTimeout))
	defer cancel()
	inst := &instance{
		stdout: newOutput(ictx, m.engine.host, m.caller, "stdout"),
		stderr: newOutput(ictx, m.engine.host, m.caller, "stderr"),
	}
	mod, err := m.rt.InstantiateModule(ictx, m.compiled, m.moduleConfig(inst))
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w%s", err, inst.stderr.hint())
	}
	inst.mod = mod
	inst.alloc = mod.ExportedFunction("pfinni_alloc")
	inst.free = mod.ExportedFunction("pfinni_free")
	inst.handle = mod.ExportedFunction("pfinni_handle")
	inst.health = mod.ExportedFunction("pfinni_health")
	init := mod.ExportedFunction("pfinni_init")
	out, _, err := inst.invokeWithin(ictx, m, "init", max(m.cfg.Timeout, initTimeout), func(cctx context.Context) (uint64, error) {
		p, done, err := inst.args(cctx, m.cfg.InitConfig)
		if err != nil {
			return 0, err
		}
		defer done()
		r, err := init.Call(cctx, uint64(p), uint64(len(m.cfg.InitConfig)))
		if err != nil {
			return 0, err
		}
		return r[0], nil
	})
	if err == nil {
		_, err = sdk.DecodeResult(out)
	}
	if err != nil {
		_ = mod.Close(context.Background())
		return nil, fmt.Errorf("pfinni_init: %w%s", err, inst.stderr.hint())
	}
	return inst, nil
}

// call runs pfinni_handle.
func (inst *instance) call(ctx context.Context, m *Module, hook string, in []byte) ([]byte, []string, error) {
	return inst.invoke(ctx, m, hook, func(cctx context.Context) (uint64, error) {
		hp, done, err := inst.args(cctx, []byte(hook), in)
		if err != nil {
			return 0, err
		}
		defer done()
		ip := hp + uint32(len(hook))
		r, err := inst.handle.Call(cctx, uint64(hp), uint64(len(hook)), uint64(ip), uint64(len(in)))
		if err != nil {
			return 0, err
		}
		return r[0], nil
	})
}

// invoke runs fn under the plugin's time limit and reads the packed
// ptr<<32|len result out of guest memory.
func (inst *instance) invoke(ctx context.Context, m *Module, what string, fn func(context.Context) (uint64, error)) ([]byte, []string, error) {
	return inst.invokeWithin(ctx, m, what, m.cfg.Timeout, fn)
}

// invokeWithin is invoke with an explicit time limit (pfinni_init gets
// at least initTimeout: it starts the guest's Go runtime).
func (inst *instance) invokeWithin(ctx context.Context, m *Module, what string, limit time.Duration, fn func(context.Context) (uint64, error)) ([]byte, []string, error) {
	st := &callState{}
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, callStateKey{}, st), limit)
	defer cancel()
	if m.stop != nil {
		defer context.AfterFunc(m.stop, cancel)() // Close interrupts the call
	}
	packed, err := fn(cctx)
	if err == nil && m.cfg.Uninterruptible && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		// Not stopped (uninterruptible), but late all the same.
		err = cctx.Err()
	}
	if err != nil {
		if errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, nil, fmt.Errorf("%s: %w (%s)", what, errTimeout, limit)
		}
		return nil, nil, err
	}
	ptr, n := uint32(packed>>32), uint32(packed)
	if n > MaxResult {
		return nil, nil, fmt.Errorf("%w: result of %d bytes exceeds %d", errMalformed, n, MaxResult)
	}
	view, ok := inst.mod.Memory().Read(ptr, n)
	if !ok {
		return nil, nil, fmt.Errorf("%w: result at %#x+%d is outside guest memory", errMalformed, ptr, n)
	}
	// The guest keeps the result alive until its next export call.
	return bytes.Clone(view), st.refusals(), nil
}

// args places parts back to back in guest memory: in the instance's
// scratch buffer when they fit (no guest call in the steady state), else
// in a buffer of their own that done frees.
func (inst *instance) args(ctx context.Context, parts ...[]byte) (uint32, func(), error) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	ptr, done := inst.scratch, func() {}
	if n > scratchSize || ptr == 0 {
		size := n
		if n <= scratchSize {
			size = scratchSize
		}
		r, err := inst.alloc.Call(ctx, uint64(size))
		if err != nil {
			return 0, nil, err
		}
		ptr = uint32(r[0])
		if n <= scratchSize {
			inst.scratch = ptr
		} else {
			done = func() { _, _ = inst.free.Call(ctx, uint64(ptr)) }
		}
	}
	mem, off := inst.mod.Memory(), ptr
	for _, p := range parts {
		if len(p) > 0 && !mem.Write(off, p) {
			return 0, nil, fmt.Errorf("%w: pfinni_alloc returned %#x, outside guest memory", errMalformed, ptr)
		}
		off += uint32(len(p))
	}
	return ptr, done, nil
}

// instantiateHostModule defines the "pfinni_v1" host module in m's
// runtime. Both functions go through the engine's Dispatcher, which holds
// every capability check.
func (m *Module) instantiateHostModule(ctx context.Context) error {
	d := m.engine.host
	_, err := m.rt.NewHostModuleBuilder(sdk.HostModule).
		NewFunctionBuilder().WithFunc(func(ctx context.Context, mod api.Module, level int32, ptr, n uint32) {
		msg, ok := mod.Memory().Read(ptr, min(n, hostcall.MaxLogLine*2))
		if !ok {
			panic(fmt.Errorf("%w: log message outside guest memory", errMalformed))
		}
		d.Log(ctx, m.callerFor(ctx), sdk.LogLevel(level), string(msg))
	}).Export("log").
		NewFunctionBuilder().WithFunc(func(ctx context.Context, mod api.Module, opPtr, opLen, inPtr, inLen uint32) uint64 {
		op, ok1 := mod.Memory().Read(opPtr, min(opLen, 64))
		in, ok2 := mod.Memory().Read(inPtr, inLen)
		if !ok1 || !ok2 || inLen > MaxResult {
			panic(fmt.Errorf("%w: host call arguments outside guest memory", errMalformed))
		}
		res := d.Call(ctx, m.callerFor(ctx), string(op), bytes.Clone(in))
		r, err := mod.ExportedFunction("pfinni_alloc").Call(ctx, uint64(len(res)))
		if err != nil {
			panic(err)
		}
		if !mod.Memory().Write(uint32(r[0]), res) {
			panic(fmt.Errorf("%w: pfinni_alloc returned a buffer outside guest memory", errMalformed))
		}
		return r[0]<<32 | uint64(len(res))
	}).Export("call").
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("host module: %w", err)
	}
	return nil
}

func (m *Module) callerFor(ctx context.Context) hostcall.Caller {
	c := m.caller
	if st, ok := ctx.Value(callStateKey{}).(*callState); ok {
		c.OnDenied = st.deny
	}
	return c
}

// fault classifies a failed guest call.
func (m *Module) fault(hook string, err error, inst *instance) error {
	var exit *sys.ExitError
	switch {
	case errors.Is(err, errTimeout):
		return fault.New(m.name, hook, fault.Timeout, err)
	case errors.Is(err, errMalformed):
		return fault.New(m.name, hook, fault.Malformed, err)
	case inst.stderr.contains("out of memory") || strings.Contains(err.Error(), "out of memory") || inst.nearMemoryLimit(m.cfg.MemoryLimit):
		return fault.New(m.name, hook, fault.Memory, fmt.Errorf("exceeded its memory limit of %d MiB", m.cfg.MemoryLimit>>20))
	case errors.As(err, &exit):
		return fault.New(m.name, hook, fault.Trap, fmt.Errorf("guest exited with code %d%s", exit.ExitCode(), inst.stderr.hint()))
	default:
		return fault.New(m.name, hook, fault.Trap, fmt.Errorf("%s%s", trapSummary(err), inst.stderr.hint()))
	}
}

// nearMemoryLimit reports whether the guest's memory has grown to within
// one Go heap arena (4 MiB) of limit: a trap there is a memory blow-up.
func (inst *instance) nearMemoryLimit(limit int64) bool {
	mem := inst.mod.Memory()
	return mem != nil && int64(mem.Size())+4<<20 > limit
}

// trapSummary shortens a wazero trap to its first line and the innermost
// frame of plugin code, e.g. "wasm error: unreachable (in main.(*oom).Handle)".
func trapSummary(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, ".") || strings.HasPrefix(l, ".runtime.") || strings.HasPrefix(l, ".wasm_pc") || strings.HasPrefix(l, ".pfinni_") || strings.Contains(l, "pfinni/sdk") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(l, "."), "(")
		return lines[0] + " (in " + name + ")"
	}
	return lines[0]
}

// resultFault says whether a decoded result is a fault.
func resultFault(err error) fault.Kind {
	var se *sdk.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errMalformed):
		return fault.Malformed
	case errors.As(err, &se) && se.Code == sdk.CodePanic:
		return fault.Panic
	}
	return ""
}

// output captures one guest stream: the tail is kept to explain a crash,
// and each line goes to the dispatcher, which logs it (redacted and
// rate-limited) only if the plugin is granted "log".
type output struct {
	ctx    context.Context
	d      *hostcall.Dispatcher
	caller hostcall.Caller
	stream string

	mu   sync.Mutex
	line []byte
	tail []byte
}

const tailSize = 1024

func newOutput(ctx context.Context, d *hostcall.Dispatcher, caller hostcall.Caller, stream string) *output {
	return &output{ctx: context.WithoutCancel(ctx), d: d, caller: caller, stream: stream}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tail = append(o.tail, p...)
	if len(o.tail) > tailSize {
		o.tail = o.tail[len(o.tail)-tailSize:]
	}
	o.line = append(o.line, p...)
	for {
		i := bytes.IndexByte(o.line, '\n')
		if i < 0 {
			break
		}
		if i > 0 {
			o.d.Output(o.ctx, o.caller, o.stream, string(o.line[:i]))
		}
		o.line = o.line[i+1:]
	}
	if len(o.line) > hostcall.MaxLogLine {
		o.d.Output(o.ctx, o.caller, o.stream, string(o.line))
		o.line = o.line[:0]
	}
	return len(p), nil
}

func (o *output) contains(s string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Contains(o.tail, []byte(s))
}

// hint returns the first line of the captured tail, redacted, to explain
// a failure ("panic: ...", "fatal error: ...").
func (o *output) hint() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, l := range strings.Split(string(o.tail), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return ": " + hostcall.Redact(l)
		}
	}
	return ""
}
