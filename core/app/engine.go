package app

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/dbengine"
)

// engineAddrFile is where a running core publishes its embedded engine's
// address, so that CLI commands run beside it (pfinni user create while
// pfinni serve runs) share the engine instead of failing on its lock: a
// surrealkv folder can be opened by one process only.
const engineAddrFile = "engine.addr"

// startEngine starts the embedded engine, or joins the one a running core
// already serves from the same data dir. It returns the URL func.
func (a *App) startEngine(ctx context.Context) (func() string, error) {
	cfg := a.Config
	dir, err := cfg.EngineDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	addrPath := filepath.Join(cfg.DataDir, engineAddrFile)
	if b, err := os.ReadFile(addrPath); err == nil {
		url := strings.TrimSpace(string(b))
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "ws://"), time.Second); err == nil {
			_ = c.Close()
			a.Log.Info("using the embedded database of the running pfinni", "url", url)
			return func() string { return url }, nil
		}
	}
	hostDir := cfg.DBHostDir
	if hostDir == "" {
		wd, _ := os.Getwd()
		if hostDir, err = dbengine.FindHostDir(wd); err != nil {
			exe, _ := os.Executable()
			h, e2 := dbengine.FindHostDir(filepath.Dir(exe))
			if e2 != nil {
				return nil, err
			}
			hostDir = h
		}
	}
	a.Engine, err = dbengine.Start(ctx, dbengine.Config{Path: "surrealkv://" + dir, HostDir: hostDir, Logger: a.Log})
	if err != nil {
		if strings.Contains(err.Error(), "already locked") {
			return nil, fmt.Errorf("the embedded database in %s is in use by another process; stop it, or run this command while `pfinni serve` runs on the same data dir: %w", cfg.DataDir, err)
		}
		return nil, err
	}
	stop := make(chan struct{})
	a.closers = append(a.closers, func(context.Context) error {
		close(stop)
		_ = os.Remove(addrPath)
		return a.Engine.Stop()
	})
	if err := os.WriteFile(addrPath, []byte(a.Engine.URL()+"\n"), 0o600); err != nil {
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
				_ = os.WriteFile(addrPath, []byte(u+"\n"), 0o600)
				last = u
			}
		}
	}()
	return a.Engine.URL, nil
}
