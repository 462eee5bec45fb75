package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/dbengine"
)

// engineAddrFile is where a running core publishes its embedded engine's
// address and root credential (JSON, mode 0600), so that CLI commands run
// beside it (pfinni user create while pfinni serve runs) share the engine
// instead of failing on its lock: a surrealkv folder can be opened by one
// process only. Whoever can read the file can read the database files in
// the same data dir anyway.
const engineAddrFile = "engine.addr"

// engineAddr is the content of engineAddrFile.
type engineAddr struct {
	URL  string `json:"url"`
	User string `json:"user"`
	Pass string `json:"pass"`
}

// engineConn says how the store reaches the embedded engine.
type engineConn struct {
	URL        func() string
	User, Pass string
	AuthLevel  string // "" (root) for the embedded engine
}

// readEngineAddr reads a running core's engine address. A file another
// user could read is refused: it holds the engine's root password.
func readEngineAddr(path string) (engineAddr, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return engineAddr{}, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return engineAddr{}, fmt.Errorf("read %s: mode %o is open to other users (want 0600)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return engineAddr{}, err
	}
	var ea engineAddr
	if err := json.Unmarshal(b, &ea); err != nil {
		return engineAddr{}, fmt.Errorf("read %s: %w", path, err)
	}
	if ea.URL == "" || ea.User == "" || ea.Pass == "" {
		return engineAddr{}, fmt.Errorf("read %s: url, user or pass missing", path)
	}
	return ea, nil
}

// writeEngineAddr replaces path with ea, mode 0600, atomically (a reader
// never sees half a file, and an older file's wider mode is not kept).
func writeEngineAddr(path string, ea engineAddr) error {
	b, err := json.Marshal(ea)
	if err != nil {
		return fmt.Errorf("write engine address: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".engine.addr-*") // created 0600
	if err != nil {
		return fmt.Errorf("write engine address: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write engine address: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write engine address: %w", err)
	}
	return nil
}

// startEngine starts the embedded engine, or joins the one a running core
// already serves from the same data dir.
func (a *App) startEngine(ctx context.Context) (engineConn, error) {
	cfg := a.Config
	dir, err := cfg.EngineDir()
	if err != nil {
		return engineConn{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return engineConn{}, fmt.Errorf("create data dir: %w", err)
	}
	addrPath := filepath.Join(cfg.DataDir, engineAddrFile)
	if ea, err := readEngineAddr(addrPath); err == nil {
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(ea.URL, "ws://"), time.Second); err == nil {
			_ = c.Close()
			a.Log.Info("using the embedded database of the running pfinni", "url", ea.URL)
			return engineConn{URL: func() string { return ea.URL }, User: ea.User, Pass: ea.Pass}, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		a.Log.Warn("ignoring the engine address file", "err", err)
	}
	hostDir, err := dbengine.LocateHostDir(cfg.DBHostDir)
	if err != nil {
		return engineConn{}, err
	}
	a.Engine, err = dbengine.Start(ctx, dbengine.Config{Path: "surrealkv://" + dir, HostDir: hostDir, Logger: a.Log})
	if err != nil {
		if strings.Contains(err.Error(), "already locked") {
			return engineConn{}, fmt.Errorf("the embedded database in %s is in use by another process; stop it, or run this command while `pfinni serve` runs on the same data dir: %w", cfg.DataDir, err)
		}
		return engineConn{}, err
	}
	user, pass := a.Engine.Credentials()
	stop := make(chan struct{})
	a.closers = append(a.closers, func(context.Context) error {
		close(stop)
		_ = os.Remove(addrPath)
		return a.Engine.Stop()
	})
	if err := writeEngineAddr(addrPath, engineAddr{URL: a.Engine.URL(), User: user, Pass: pass}); err != nil {
		a.Log.Warn("publish engine address", "err", err)
	}
	// The port changes when the supervisor restarts the engine.
	go func() {
		last := a.Engine.URL()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			if u := a.Engine.URL(); u != last && a.Engine.Ready() {
				if err := writeEngineAddr(addrPath, engineAddr{URL: u, User: user, Pass: pass}); err != nil {
					a.Log.Warn("publish engine address", "err", err)
				}
				last = u
			}
		}
	}()
	return engineConn{URL: a.Engine.URL, User: user, Pass: pass}, nil
}
