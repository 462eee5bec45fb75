// Package processhost runs out-of-process plugins with hashicorp/go-plugin
// over gRPC, speaking the protocol of sdk/process.
//
// Start launches the executable after go-plugin has verified its SHA-256
// (SecureConfig), negotiates the protocol version (VersionedPlugins),
// secures the connection with AutoMTLS and gives the process no inherited
// environment. A supervisor checks health periodically and restarts a
// crashed or unhealthy process with exponential backoff; calls made while
// it restarts fail fast with fault.Unavailable. Close (and disable, in the
// registry) kills the process and waits for it, so no orphan is left; the
// clients are Managed, so plugin.CleanupClients also stops them.
//
// Imported by core/plugin. A Plugin is safe for concurrent use.
package processhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pfinni/pfinni/core/plugin/fault"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/process"
	"github.com/pfinni/pfinni/sdk/proto/pluginv1"
)

// Config describes one process plugin.
type Config struct {
	Name string
	Path string // the executable
	// SHA256 is the executable's expected digest; go-plugin refuses to
	// run a file that does not match. Required.
	SHA256 []byte
	// Env is the plugin's whole environment (nothing is inherited); the
	// egress proxy's variables are added to it.
	Env []string
	// AllowedHosts are the hosts the plugin's egress proxy admits (see
	// Egress); empty refuses all outbound HTTP through it.
	AllowedHosts []string
	// Capabilities are the plugin's grants; of them only "log" matters
	// here: without it the plugin's stdout and stderr are not logged.
	Capabilities []string
	// Host logs the plugin's output (redacted, rate-limited) when it is
	// granted "log". Nil means a Dispatcher with no services.
	Host       *hostcall.Dispatcher
	InitConfig json.RawMessage
	// Timeout bounds each call (default 2s); StartTimeout bounds launch
	// and handshake (default 10s).
	Timeout      time.Duration
	StartTimeout time.Duration
	// HealthInterval is how often the supervisor checks the plugin
	// (default 10s).
	HealthInterval time.Duration
	// MinBackoff and MaxBackoff bound the delay before a restart
	// (defaults 100ms and 30s); it doubles after each failed start and
	// resets once the plugin has stayed healthy for one interval.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives supervisor events and the plugin's stderr,
	// redacted. Nil discards.
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 10 * time.Second
	}
	if c.HealthInterval <= 0 {
		c.HealthInterval = 10 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if len(c.InitConfig) == 0 {
		c.InitConfig = json.RawMessage("{}")
	}
	if c.Host == nil {
		c.Host = hostcall.New(hostcall.Services{Logger: c.Logger})
	}
}

// Plugin is a running (or restarting) process plugin.
type Plugin struct {
	cfg    Config
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	egress *Egress
	output *output

	mu       sync.RWMutex
	client   *plugin.Client
	rpc      pluginv1.PluginClient
	pid      int
	restarts int
	lastErr  error
	closed   bool
}

// ErrNoChecksum means Config.SHA256 was empty.
var ErrNoChecksum = errors.New("process plugin needs a SHA-256 checksum")

// Start launches the plugin and runs its Init. It fails if the binary's
// checksum, the handshake or Init fails; after that, crashes are handled
// by restarting.
func Start(ctx context.Context, cfg Config) (*Plugin, error) {
	cfg.defaults()
	if len(cfg.SHA256) == 0 {
		return nil, fmt.Errorf("start process plugin %q: %w", cfg.Name, ErrNoChecksum)
	}
	eg, err := StartEgress(cfg.Name, cfg.AllowedHosts, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("start process plugin %q: %w", cfg.Name, err)
	}
	p := &Plugin{cfg: cfg, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), egress: eg,
		output: &output{d: cfg.Host, caller: hostcall.Caller{Plugin: cfg.Name, Capabilities: cfg.Capabilities}}}
	if err := p.launch(ctx); err != nil {
		_ = eg.Close()
		return nil, fmt.Errorf("start process plugin %q: %w", cfg.Name, err)
	}
	go p.supervise()
	return p, nil
}

func (p *Plugin) launch(ctx context.Context) error {
	cmd := exec.Command(p.cfg.Path)
	cmd.Env = append(append([]string{}, p.cfg.Env...), p.egress.Env()...)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  process.Handshake,
		VersionedPlugins: process.PluginSets(nil),
		Cmd:              cmd,
		SkipHostEnv:      true,
		SecureConfig:     &plugin.SecureConfig{Checksum: p.cfg.SHA256, Hash: sha256.New()},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Managed:          true,
		StartTimeout:     p.cfg.StartTimeout,
		Logger:           p.hclogger(),
		Stderr:           p.output,
		SyncStderr:       p.output,
		SyncStdout:       p.output,
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return fmt.Errorf("launch: %w", err)
	}
	if v := client.NegotiatedVersion(); v != process.ProtocolVersion {
		client.Kill()
		return fmt.Errorf("plugin speaks protocol %d, host needs %d", v, process.ProtocolVersion)
	}
	raw, err := rpc.Dispense(process.PluginName)
	if err != nil {
		client.Kill()
		return fmt.Errorf("dispense: %w", err)
	}
	pc := raw.(pluginv1.PluginClient)
	ictx, cancel := context.WithTimeout(ctx, p.cfg.StartTimeout)
	defer cancel()
	res, err := pc.Init(ictx, &pluginv1.InitRequest{Config: p.cfg.InitConfig, SdkVersion: sdk.Version})
	if err == nil {
		_, err = sdk.DecodeResult(res.GetEnvelope())
	}
	if err != nil {
		client.Kill()
		return fmt.Errorf("init: %w", err)
	}
	pid := 0
	if rc := client.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	p.mu.Lock()
	p.client, p.rpc, p.pid = client, pc, pid
	p.mu.Unlock()
	return nil
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.cfg.Name }

// Pid returns the current process id (0 while restarting).
func (p *Plugin) Pid() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.pid
}

// Restarts returns how many times the supervisor restarted the process.
func (p *Plugin) Restarts() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.restarts
}

// Call runs hook with the JSON request in, like wasmhost.Module.Call: the
// result of a success envelope, an *sdk.Error, a *fault.Error, or
// ctx.Err().
func (p *Plugin) Call(ctx context.Context, hook string, in []byte) (json.RawMessage, error) {
	rpc, err := p.current(hook)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	res, err := rpc.Handle(cctx, &pluginv1.HandleRequest{Hook: hook, Input: in})
	if err != nil {
		return nil, p.rpcFault(ctx, cctx, hook, err)
	}
	out, err := sdk.DecodeResult(res.GetEnvelope())
	var se *sdk.Error
	switch {
	case errors.Is(err, errMalformed):
		return nil, fault.New(p.cfg.Name, hook, fault.Malformed, err)
	case errors.As(err, &se) && se.Code == sdk.CodePanic:
		return nil, fault.New(p.cfg.Name, hook, fault.Panic, err)
	}
	return out, err
}

// Health asks the plugin whether it can serve calls.
func (p *Plugin) Health(ctx context.Context) error {
	rpc, err := p.current("health")
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	res, err := rpc.Health(cctx, &pluginv1.HealthRequest{})
	if err != nil {
		return p.rpcFault(ctx, cctx, "health", err)
	}
	_, err = sdk.DecodeResult(res.GetEnvelope())
	return err
}

func (p *Plugin) current(hook string) (pluginv1.PluginClient, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	switch {
	case p.closed:
		return nil, fault.New(p.cfg.Name, hook, fault.Unavailable, errors.New("plugin is stopped"))
	case p.rpc == nil:
		return nil, fault.New(p.cfg.Name, hook, fault.Unavailable, fmt.Errorf("plugin is restarting after: %v", p.lastErr))
	}
	return p.rpc, nil
}

func (p *Plugin) rpcFault(ctx, cctx context.Context, hook string, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(cctx.Err(), context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded:
		return fault.New(p.cfg.Name, hook, fault.Timeout, fmt.Errorf("call exceeded its time limit (%s)", p.cfg.Timeout))
	}
	select { // let the supervisor look now
	case p.kick <- struct{}{}:
	default:
	}
	return fault.New(p.cfg.Name, hook, fault.Crash, fmt.Errorf("%s%s", status.Convert(err).Message(), p.output.hint()))
}

// supervise checks health and restarts the process with backoff.
func (p *Plugin) supervise() {
	defer close(p.done)
	backoff := p.cfg.MinBackoff
	healthySince := time.Now()
	t := time.NewTicker(p.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		case <-p.kick:
		}
		err := p.check()
		if err == nil {
			if time.Since(healthySince) >= p.cfg.HealthInterval {
				backoff = p.cfg.MinBackoff
			}
			continue
		}
		p.cfg.Logger.Warn("process plugin unhealthy; restarting", "plugin", p.cfg.Name, "fault", fault.Label(err), "backoff", backoff)
		p.mu.Lock()
		old := p.client
		p.client, p.rpc, p.pid, p.lastErr = nil, nil, 0, err
		p.mu.Unlock()
		if old != nil {
			old.Kill()
		}
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, p.cfg.MaxBackoff)
			lerr := p.launch(context.Background())
			p.mu.Lock()
			p.restarts++
			p.lastErr = lerr
			closed := p.closed
			p.mu.Unlock()
			if lerr == nil {
				if closed { // Close raced with the relaunch
					p.kill()
					return
				}
				healthySince = time.Now()
				p.cfg.Logger.Info("process plugin restarted", "plugin", p.cfg.Name, "pid", p.Pid())
				break
			}
			p.cfg.Logger.Error("restart process plugin", "plugin", p.cfg.Name, "err", lerr, "backoff", backoff)
		}
	}
}

func (p *Plugin) check() error {
	p.mu.RLock()
	client := p.client
	p.mu.RUnlock()
	if client == nil || client.Exited() {
		return fault.New(p.cfg.Name, "health", fault.Crash, errors.New("process exited"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
	defer cancel()
	if err := p.Health(ctx); err != nil {
		return fmt.Errorf("health: %w", err)
	}
	return nil
}

// Close stops the supervisor, kills the process and waits for it to exit.
func (p *Plugin) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	close(p.stop)
	<-p.done
	p.kill()
	return p.egress.Close()
}

func (p *Plugin) kill() {
	p.mu.Lock()
	client := p.client
	p.client, p.rpc, p.pid = nil, nil, 0
	p.mu.Unlock()
	if client != nil {
		client.Kill() // graceful, then forced; waits for the process
	}
}

var errMalformed = sdk.ErrMalformed // also for guest-memory faults

// hclogger adapts go-plugin's own logging (start, exit, protocol
// errors) to slog, redacted. The plugin's stderr, which go-plugin would
// log through a sub-logger named after the executable, goes to
// p.output instead (logged only with the log capability).
func (p *Plugin) hclogger() hclog.Logger {
	return quietStderr{Logger: hclog.New(&hclog.LoggerOptions{
		Name:   "plugin." + p.cfg.Name,
		Level:  hclog.Info,
		Output: &logWriter{l: p.cfg.Logger, plugin: p.cfg.Name},
	}), exe: filepath.Base(p.cfg.Path)}
}

// quietStderr silences go-plugin's per-executable sub-logger, through
// which it would log every line of the plugin's stderr.
type quietStderr struct {
	hclog.Logger
	exe string
}

func (q quietStderr) Named(name string) hclog.Logger {
	if name == q.exe {
		return hclog.NewNullLogger()
	}
	return quietStderr{Logger: q.Logger.Named(name), exe: q.exe}
}

type logWriter struct {
	l      *slog.Logger
	plugin string
}

func (w *logWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if line != "" {
			w.l.Info(hostcall.Redact(line), "plugin", w.plugin, "source", "process")
		}
	}
	return len(b), nil
}

// output takes the plugin's stdout and stderr line by line to the
// dispatcher, which logs them (redacted, rate-limited) only if the plugin
// is granted "log", and keeps a short tail.
type output struct {
	d      *hostcall.Dispatcher
	caller hostcall.Caller

	mu   sync.Mutex
	line []byte
	tail []byte
}

const tailSize = 1024

func (o *output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tail = append(o.tail, b...)
	if len(o.tail) > tailSize {
		o.tail = o.tail[len(o.tail)-tailSize:]
	}
	o.line = append(o.line, b...)
	for {
		i := bytes.IndexByte(o.line, '\n')
		if i < 0 {
			break
		}
		if l := strings.TrimRight(string(o.line[:i]), "\r"); l != "" && !chatter(l) {
			o.d.Output(context.Background(), o.caller, "process", l)
		}
		o.line = o.line[i+1:]
	}
	if len(o.line) > hostcall.MaxLogLine {
		o.d.Output(context.Background(), o.caller, "process", string(o.line))
		o.line = o.line[:0]
	}
	return len(b), nil
}

// hint returns the last Go crash line in the tail ("panic: ...",
// "fatal error: ..."), redacted, to explain a crash; "" if none.
func (o *output) hint() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	lines := strings.Split(string(o.tail), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return ": " + hostcall.Redact(l)
		}
	}
	return ""
}

// chatter reports whether line is go-plugin's own debug or trace log
// line (JSON from the plugin side of the handshake), not the plugin's.
func chatter(line string) bool {
	if !strings.HasPrefix(line, `{"@level":`) {
		return false
	}
	var l struct {
		Level string `json:"@level"`
	}
	return json.Unmarshal([]byte(line), &l) == nil && (l.Level == "debug" || l.Level == "trace")
}
