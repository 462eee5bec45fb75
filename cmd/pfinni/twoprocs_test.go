package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/bench"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// serveProcess runs `pfinni serve` as its own process on the shared
// external database and returns its base URL once it is ready.
func serveProcess(t *testing.T, bin, dbURL, dbName, dbhost string) string {
	t.Helper()
	port, err := freePort()
	require.NoError(t, err)
	dir := t.TempDir()
	dbUser, dbPass := storetest.Credentials()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"PFINNI_HTTP_ADDR=127.0.0.1:" + port, "PFINNI_DATA_DIR=" + dir, "PFINNI_DB_URL=" + dbURL,
		"PFINNI_DB_NAMESPACE=test", "PFINNI_DB_DATABASE=" + dbName, "PFINNI_DBHOST_DIR=" + dbhost,
		"PFINNI_DB_USER=" + dbUser, "PFINNI_DB_PASSWORD=" + dbPass,
		"PFINNI_ADMIN_EMAIL=admin@example.org", "PFINNI_ADMIN_PASSWORD=Two-processes-pass-1",
		"PFINNI_PLUGINS_MANIFEST=" + filepath.Join(dir, "none.yaml"), "PFINNI_LOG_LEVEL=warn"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	base := "http://127.0.0.1:" + port
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, 60*time.Second, 100*time.Millisecond, "server did not start: %s", &out)
	return base
}

// Two core processes on one database: a patient created through one is
// served by the other within a second (its directory follows live
// queries), and a user's chat on one reaches their WebSocket on the other.
func TestTwoCoreProcessesShareOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts two servers")
	}
	wd, _ := os.Getwd()
	root := filepath.Join(wd, "..", "..")
	bin := buildBinary(t)

	urlf, err := storetest.Engine()
	require.NoError(t, err)
	dbName := storetest.Config(t).Database
	dbhost := filepath.Join(root, "dbhost")
	a := serveProcess(t, bin, urlf(), dbName, dbhost)
	b := serveProcess(t, bin, urlf(), dbName, dbhost)

	ctx := context.Background()
	ca, cb := bench.NewClient(a, 2), bench.NewClient(b, 2)
	require.NoError(t, ca.Login(ctx, "admin@example.org", "Two-processes-pass-1"))
	require.NoError(t, cb.Login(ctx, "admin@example.org", "Two-processes-pass-1"))

	// Chat fan-out: a WebSocket on B hears the user's message sent to A.
	dialer := websocket.Dialer{}
	ws, _, err := dialer.Dial(strings.Replace(b, "http", "ws", 1)+"/ws/chat", http.Header{"Authorization": {"Bearer " + cb.Token}})
	require.NoError(t, err)
	defer ws.Close()
	frames := make(chan string, 16)
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				close(frames)
				return
			}
			frames <- string(data)
		}
	}()

	var p struct {
		ID string `json:"id"`
	}
	start := time.Now()
	require.NoError(t, ca.Do(ctx, "POST", "/api/v1/patients", map[string]any{
		"mrn": "TWO-PROC-1", "first_name": "Twyla", "last_name": "Procter", "date_of_birth": "1980-02-03", "sex": "female"}, &p))
	require.Eventually(t, func() bool {
		var got struct {
			ID string `json:"id"`
		}
		return cb.Do(ctx, "GET", "/api/v1/patients/"+p.ID, nil, &got) == nil && got.ID == p.ID
	}, 5*time.Second, 20*time.Millisecond)
	t.Logf("B served A's new patient after %s", time.Since(start))
	assert.Less(t, time.Since(start), 2*time.Second, "two instances agree within about a second")

	require.NoError(t, ca.Do(ctx, "POST", "/api/v1/chat", map[string]any{"message": "what can you do?", "context": map[string]string{"page": "/"}}, nil))
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-frames:
			require.True(t, ok, "socket closed")
			if strings.Contains(f, `"type":"message"`) && strings.Contains(f, "what can you do?") {
				return
			}
		case <-deadline:
			t.Fatal("the message sent to A never reached the WebSocket on B")
		}
	}
}
