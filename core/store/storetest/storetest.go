// Package storetest gives tests a real SurrealDB: one embedded engine per
// test binary (started on first use, in memory), and a fresh, empty
// database with the schema applied for each test. Set
// PFINNI_TEST_DB_URL (plus _USER/_PASSWORD) to use an external server
// instead.
//
// Use it from TestMain so the engine stops when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pfinni/pfinni/core/dbengine"
	"github.com/pfinni/pfinni/core/store"
)

var (
	once   sync.Once
	engine *dbengine.Engine
	url    string
	err    error
)

// Engine starts the shared engine on first use and returns its URL func.
func Engine() (func() string, error) {
	once.Do(func() {
		if u := os.Getenv("PFINNI_TEST_DB_URL"); u != "" {
			url = u
			return
		}
		wd, _ := os.Getwd()
		dir, derr := dbengine.FindHostDir(wd)
		if derr != nil {
			err = derr
			return
		}
		engine, err = dbengine.Start(context.Background(), dbengine.Config{Path: "mem://", HostDir: dir, StartTimeout: 60 * time.Second})
	})
	if err != nil {
		return nil, err
	}
	if engine != nil {
		return engine.URL, nil
	}
	return func() string { return url }, nil
}

// SharedEngine returns the running embedded engine (nil for an external
// server), for tests that kill it to prove recovery.
func SharedEngine() *dbengine.Engine { return engine }

// Credentials returns the user and password tests sign in with: the
// shared engine's root credential, or PFINNI_TEST_DB_USER/_PASSWORD for an
// external server. Call Engine first.
func Credentials() (user, pass string) {
	if engine != nil {
		return engine.Credentials()
	}
	return os.Getenv("PFINNI_TEST_DB_USER"), os.Getenv("PFINNI_TEST_DB_PASSWORD")
}

// Main runs the tests and stops the engine afterwards.
func Main(m *testing.M) int {
	code := m.Run()
	if engine != nil {
		_ = engine.Stop()
	}
	return code
}

// Config returns a store config for a new, uniquely named database.
func Config(tb testing.TB) store.Config {
	tb.Helper()
	u, e := Engine()
	if e != nil {
		tb.Fatalf("start test database: %v", e)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	user, pass := Credentials()
	return store.Config{
		URL:       u,
		Namespace: "test",
		Database:  "t_" + hex.EncodeToString(b),
		User:      user,
		Password:  pass,
		Logger:    slog.New(slog.DiscardHandler),
		PingEvery: 200 * time.Millisecond,
	}
}

// New opens a fresh database with the schema applied; it is closed when
// the test ends.
func New(tb testing.TB) *store.DB {
	tb.Helper()
	cfg := Config(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, e := store.Open(ctx, cfg)
	if e != nil {
		tb.Fatalf("open test database: %v", e)
	}
	tb.Cleanup(func() {
		_ = db.Exec(context.Background(), fmt.Sprintf("REMOVE DATABASE IF EXISTS %s", cfg.Database), nil)
		_ = db.Close()
	})
	return db
}
