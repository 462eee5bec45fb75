package plugin

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/core/plugin/wasmhost"
)

func TestA1RaceCompile(t *testing.T) {
	root, _ := plugintest.Root()
	bin, _ := os.ReadFile(filepath.Join(root, "plugins/kb-guide/kb-guide.wasm"))
	e, _ := wasmhost.NewEngine(wasmhost.EngineConfig{CacheDir: t.TempDir()})
	t0 := time.Now()
	m, err := e.Load(context.Background(), wasmhost.Config{Name: "x", Wasm: bin, Uninterruptible: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold %s", time.Since(t0))
	m.Close(context.Background())
}
