// Package dbengine starts and supervises the embedded SurrealDB engine: a
// small Node program (dbhost/host.mjs) that hosts the real engine from npm's
// @surrealdb/node behind the standard /rpc WebSocket endpoint.
//
// The engine runs as a child process on a free loopback port. The
// supervisor waits until it answers, restarts it if it dies (Ready reports
// false meanwhile) and stops it on shutdown. The child also exits by itself
// when the parent's pipe to its standard input closes, so a killed core
// leaves no orphan engine behind.
//
// Access: the engine itself runs without authentication, so the host
// enforces it. Start makes a random root credential (Credentials), hands
// it to the host on its standard input — never in argv or the
// environment, which other local users see in ps — and the host requires
// every connection to sign in with it before anything else, and refuses
// any WebSocket upgrade that carries an Origin header (a browser page).
// The credential lives as long as the Engine: a supervised restart
// reuses it, so the store's reconnects keep working.
//
// Only the core's wiring (core/app) and test harnesses import this package.
package dbengine

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config says where the engine keeps its data and where the host program is.
type Config struct {
	// Path is the engine URL: "mem://" or "surrealkv:///abs/dir".
	Path string
	// HostDir is the folder holding host.mjs and its node_modules.
	HostDir string
	// Node is the node binary; "node" from PATH when empty.
	Node string
	// Logger receives the engine's own output (never patient data: the
	// host prints only protocol errors).
	Logger *slog.Logger
	// StartTimeout bounds each start; 30s when zero.
	StartTimeout time.Duration
	// Bind is the host:port the engine listens on; "127.0.0.1:0" (a
	// free loopback port) when empty. `pfinni db serve` sets a fixed
	// one so several pfinni processes share the engine.
	Bind string
	// User and Password are the root credential every connection must
	// sign in with; a random one (user RootUser) when Password is empty.
	// The password is 16 to 128 letters, digits, '-' or '_'.
	User, Password string
}

// validUser and validPassword are what the host accepts as a credential.
var (
	validUser     = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	validPassword = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)
)

// RootUser is the name of the root user the host defines in the engine.
const RootUser = "pfinni_root"

// Engine is a running, supervised engine host.
type Engine struct {
	cfg  Config
	user string
	pass string // the root password (Config.Password, or random base64url, 256 bits)

	mu      sync.Mutex
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	url     string
	ready   bool
	stopped bool
	exited  chan struct{}
	changed chan struct{} // closed and replaced on every (re)start
	done    chan struct{}
}

// FindHostDir looks for dbhost/host.mjs from dir upwards, so the core and
// tests find the host wherever in the repository they run.
func FindHostDir(dir string) (string, error) {
	if env := os.Getenv("PFINNI_DBHOST_DIR"); env != "" {
		return env, nil
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "dbhost", "host.mjs")
		if _, err := os.Stat(p); err == nil {
			return filepath.Join(d, "dbhost"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find dbhost/host.mjs above %s: not found (set PFINNI_DBHOST_DIR)", dir)
		}
	}
}

// LocateHostDir is the host folder to use: configured when set, else
// the first dbhost/ found above the working directory, else above the
// executable (an installed binary next to its dbhost/).
func LocateHostDir(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	wd, _ := os.Getwd()
	dir, err := FindHostDir(wd)
	if err == nil {
		return dir, nil
	}
	exe, _ := os.Executable()
	if d, e2 := FindHostDir(filepath.Dir(exe)); e2 == nil {
		return d, nil
	}
	return "", err
}

// Start launches the engine host and returns once it accepts connections.
// The engine is supervised until Stop.
func Start(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Node == "" {
		cfg.Node = "node"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	if _, err := os.Stat(filepath.Join(cfg.HostDir, "node_modules", "@surrealdb", "node")); err != nil {
		return nil, fmt.Errorf("start embedded database: npm packages missing in %s (run `make deps` or `npm ci --prefix %s`)", cfg.HostDir, cfg.HostDir)
	}
	if cfg.Bind == "" {
		cfg.Bind = "127.0.0.1:0"
	}
	if _, _, err := net.SplitHostPort(cfg.Bind); err != nil {
		return nil, fmt.Errorf("start embedded database: address %q: %w", cfg.Bind, err)
	}
	user, pass := cfg.User, cfg.Password
	if user == "" {
		user = RootUser
	}
	if !validUser.MatchString(user) {
		return nil, fmt.Errorf("start embedded database: the user name is 1 to 64 letters, digits or '_'")
	}
	if pass == "" {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("start embedded database: make root credential: %w", err)
		}
		pass = base64.RawURLEncoding.EncodeToString(secret)
	} else if !validPassword.MatchString(pass) {
		return nil, fmt.Errorf("start embedded database: the password is 16 to 128 letters, digits, '-' or '_'")
	}
	e := &Engine{cfg: cfg, user: user, pass: pass, changed: make(chan struct{}), done: make(chan struct{})}
	if err := e.launch(ctx); err != nil {
		return nil, err
	}
	go e.supervise()
	return e, nil
}

func (e *Engine) launch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.StartTimeout)
	defer cancel()
	cmd := exec.Command(e.cfg.Node, "host.mjs", "--path", e.cfg.Path, "--bind", e.cfg.Bind)
	cmd.Dir = e.cfg.HostDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("start embedded database: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("start embedded database: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("start embedded database: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start embedded database (%s): %w", e.cfg.Node, err)
	}
	line, err := json.Marshal(map[string]string{"user": e.user, "pass": e.pass})
	if err != nil {
		return fmt.Errorf("start embedded database: %w", err)
	}
	// The pipe buffer takes the line at once; a host that died first is
	// reported below as having exited.
	_, _ = stdin.Write(append(line, '\n'))
	exited := make(chan struct{})
	portc := make(chan string, 1)
	var errTail strings.Builder
	var errMu sync.Mutex
	// Wait closes the pipes, so it runs only after both readers reached
	// the end of their pipe (the host exited): its last words are kept.
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if p, ok := strings.CutPrefix(line, "PFINNI_DBHOST_READY "); ok {
				select {
				case portc <- strings.TrimSpace(p):
				default:
				}
				continue
			}
			e.cfg.Logger.Info("dbhost", "out", line)
		}
	}()
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errMu.Lock()
			if errTail.Len() < 4096 {
				errTail.WriteString(sc.Text() + "\n")
			}
			errMu.Unlock()
			e.cfg.Logger.Warn("dbhost", "err", sc.Text())
		}
	}()
	go func() {
		readers.Wait()
		_ = cmd.Wait()
		close(exited)
	}()
	select {
	case port := <-portc:
		addr := net.JoinHostPort(dialHost(e.cfg.Bind), port)
		url := "ws://" + addr
		if err := waitDial(addr, ctx); err != nil {
			_ = cmd.Process.Kill()
			return fmt.Errorf("start embedded database: %w", err)
		}
		e.mu.Lock()
		e.cmd, e.stdin, e.url, e.ready, e.exited = cmd, stdin, url, true, exited
		close(e.changed)
		e.changed = make(chan struct{})
		e.mu.Unlock()
		return nil
	case <-exited:
		errMu.Lock()
		defer errMu.Unlock()
		return fmt.Errorf("start embedded database: host exited: %s", strings.TrimSpace(errTail.String()))
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return fmt.Errorf("start embedded database: no answer within %s: %w", e.cfg.StartTimeout, ctx.Err())
	}
}

// dialHost is the host to reach an engine bound to bind: loopback for
// the wildcard addresses.
func dialHost(bind string) string {
	host, _, _ := net.SplitHostPort(bind)
	switch host {
	case "", "0.0.0.0", "::":
		return "127.0.0.1"
	}
	return host
}

func waitDial(addr string, ctx context.Context) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// supervise restarts the host whenever it exits unexpectedly, with backoff.
func (e *Engine) supervise() {
	defer close(e.done)
	backoff := 200 * time.Millisecond
	for {
		e.mu.Lock()
		exited := e.exited
		e.mu.Unlock()
		<-exited
		e.mu.Lock()
		e.ready = false
		stopped := e.stopped
		e.mu.Unlock()
		if stopped {
			return
		}
		e.cfg.Logger.Warn("embedded database exited; restarting", "backoff", backoff)
		for {
			time.Sleep(backoff)
			e.mu.Lock()
			stopped = e.stopped
			e.mu.Unlock()
			if stopped {
				return
			}
			err := e.launch(context.Background())
			if err == nil {
				backoff = 200 * time.Millisecond
				break
			}
			e.cfg.Logger.Error("restart embedded database", "err", err)
			backoff = min(backoff*2, 10*time.Second)
		}
	}
}

// URL is the engine's current RPC base URL (ws://127.0.0.1:PORT). The port
// changes when the engine is restarted (unless Config.Bind fixed it); the
// store asks again on reconnect.
func (e *Engine) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.url
}

// Credentials returns the root user and password every connection to
// the engine must sign in with. They are secret: never log them.
func (e *Engine) Credentials() (user, pass string) { return e.user, e.pass }

// Ready reports whether the engine process is up.
func (e *Engine) Ready() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ready
}

// PID is the engine host's process id (for load runs that report its RSS).
func (e *Engine) PID() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cmd == nil || e.cmd.Process == nil {
		return 0
	}
	return e.cmd.Process.Pid
}

// Kill ends the host abruptly, as a crash would. Tests use it to prove the
// supervisor restarts the engine and the core recovers.
func (e *Engine) Kill() {
	e.mu.Lock()
	cmd := e.cmd
	e.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Stop ends the engine and its supervision and waits for the process to exit.
func (e *Engine) Stop() error {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	e.stopped = true
	cmd, stdin, exited := e.cmd, e.stdin, e.exited
	e.mu.Unlock()
	if stdin != nil {
		_ = stdin.Close()
	}
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	<-e.done
	return nil
}
