package chat_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/manifest"
)

// A question asked while the server starts — the chat plugins read from
// the manifest but still loading — waits for them and is answered by the
// plugin, not with "that part of the assistant is not responding" (issue
// 11).
func TestQuestionWhilePluginsLoadIsAnswered(t *testing.T) {
	if testing.Short() {
		t.Skip("builds WASM plugins")
	}
	base := newEnv(t, 30)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("schema: " + manifest.Schema + "\nplugins:\n")
	for _, p := range chatPlugins {
		src := buildWASM(t, p.name)
		rel := "plugins/" + p.name + "/" + p.name + ".wasm"
		dst := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		bin, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dst, bin, 0o644))
		sum, err := manifest.FileSHA256(dst)
		require.NoError(t, err)
		fmt.Fprintf(&b, "  - name: %s\n    version: 1.0.0\n    kind: wasm\n    sdk: \">=1.0.0 <2.0.0\"\n    artifact: {path: %s, sha256: %q}\n    provides: %s\n    capabilities: %s\n    limits: {timeout: 2s, memory: 64MiB, concurrency: 4, interruptible: false}\n",
			p.name, rel, hex.EncodeToString(sum), p.provides, p.caps)
	}
	mp := filepath.Join(dir, "plugin-manifest.yaml")
	require.NoError(t, os.WriteFile(mp, []byte(b.String()), 0o644))
	cacheDir, err := os.UserCacheDir()
	require.NoError(t, err)
	reg, err := plugin.New(plugin.Options{
		ManifestPath: mp, DataDir: filepath.Join(cacheDir, "pfinni", "chattest-data"), LoadWait: 10 * time.Minute, // cold compiles under -race on a busy machine take minutes
		Services: hostcall.Services{Patients: chat.HostPatients{Patients: base.patients}, Audit: base.audit},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close(context.Background()) })
	require.NoError(t, reg.Open(context.Background()))
	w, err := chat.New(context.Background(), chat.Deps{DB: base.db, Patients: base.patients, Intents: reg, Knowledge: reg, Now: fixedNow, Location: time.UTC, Audit: base.audit}, chat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })

	type answer struct {
		r   chat.Reply
		err error
	}
	got := make(chan answer, 1)
	go func() {
		r, err := w.Ask(as(actor.RoleStaff), chat.Request{Message: "how many churned this month?"})
		got <- answer{r, err}
	}()
	reg.LoadAll(context.Background())
	a := <-got
	require.NoError(t, a.err)
	assert.Equal(t, "patients.count", a.r.Intent, a.r.Reply)
}
