package dbengine

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rpc is a bare CBOR RPC connection to the engine host, as any local
// process (or a process plugin) could open one without pfinni's client.
type rpc struct {
	t  *testing.T
	ws *websocket.Conn
	n  int
}

func dialRPC(t *testing.T, url string, header http.Header) (*rpc, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"cbor"}, HandshakeTimeout: 10 * time.Second}
	ws, res, err := d.Dial(url+"/rpc", header)
	if res != nil && res.Body != nil {
		_ = res.Body.Close()
	}
	if err != nil {
		return nil, res, err
	}
	t.Cleanup(func() { _ = ws.Close() })
	return &rpc{t: t, ws: ws}, res, nil
}

// call sends one request and returns its result, or the error message
// the host or engine answered with ("" when none).
func (r *rpc) call(method string, params ...any) (result any, errMsg string) {
	r.t.Helper()
	r.n++
	req := map[string]any{"id": r.n, "method": method}
	if params != nil {
		req["params"] = params
	}
	b, err := cbor.Marshal(req)
	require.NoError(r.t, err)
	require.NoError(r.t, r.ws.WriteMessage(websocket.BinaryMessage, b))
	require.NoError(r.t, r.ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, data, err := r.ws.ReadMessage()
	require.NoError(r.t, err)
	var res map[string]any
	require.NoError(r.t, cbor.Unmarshal(data, &res))
	if e, ok := res["error"].(map[any]any); ok {
		msg, _ := e["message"].(string)
		return nil, "error: " + msg
	}
	return res["result"], ""
}

// statementErrors returns the error text of every failed statement of a
// query result ("" when all succeeded).
func statementErrors(result any) string {
	var out []string
	list, _ := result.([]any)
	for _, s := range list {
		m, _ := s.(map[any]any)
		if m["status"] == "ERR" {
			msg, _ := m["result"].(string)
			out = append(out, msg)
		}
	}
	return strings.Join(out, "; ")
}

// H1: the embedded engine's RPC port on loopback is no longer open to
// whoever finds it. Only a connection that signs in with this start's
// root credential reads data; browsers (Origin) are refused outright.
func TestEngineRefusesUnauthenticatedAccess(t *testing.T) {
	e, err := Start(context.Background(), Config{Path: "mem://", HostDir: hostDir(t)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Stop() })
	user, pass := e.Credentials()
	require.Len(t, pass, 43, "256 random bits, base64url")

	// pfinni itself: signs in with the credential and stores a secret.
	owner, _, err := dialRPC(t, e.URL(), nil)
	require.NoError(t, err)
	_, msg := owner.call("signin", map[string]any{"user": user, "pass": pass})
	require.Empty(t, msg)
	_, msg = owner.call("use", "pfinni", "pfinni")
	require.Empty(t, msg)
	res, msg := owner.call("query", "CREATE secret:1 SET v = 'stored'; SELECT VALUE v FROM secret")
	require.Empty(t, msg)
	require.Empty(t, statementErrors(res))
	require.Contains(t, res.([]any)[1].(map[any]any)["result"], "stored")

	t.Run("no sign-in: every method but signin is refused", func(t *testing.T) {
		c, _, err := dialRPC(t, e.URL(), nil)
		require.NoError(t, err)
		for _, m := range []struct {
			method string
			params []any
		}{
			{"use", []any{"pfinni", "pfinni"}},
			{"query", []any{"SELECT * FROM pfinni.pfinni.secret"}},
			{"select", []any{"secret"}},
			{"info", nil},
			{"attach", nil},
			{"authenticate", []any{"x.y.z"}},
		} {
			res, msg := c.call(m.method, m.params...)
			assert.Contains(t, msg, "not signed in", m.method)
			assert.Nil(t, res, m.method)
		}
	})

	t.Run("wrong password or another kind of sign-in is refused", func(t *testing.T) {
		c, _, err := dialRPC(t, e.URL(), nil)
		require.NoError(t, err)
		for _, creds := range []map[string]any{
			{"user": user, "pass": "guessed-password-0000000000"},
			{"user": "root", "pass": "root"},
			{"user": user, "pass": pass, "NS": "pfinni"}, // right password, but not a root sign-in
			{"NS": "pfinni", "DB": "pfinni", "AC": "user", "user": "x", "pass": "y"},
		} {
			_, msg := c.call("signin", creds)
			assert.NotEmpty(t, msg, "signin %v must fail", creds["user"])
		}
		res, msg := c.call("query", "SELECT * FROM pfinni.pfinni.secret")
		assert.Contains(t, msg, "not signed in")
		assert.Nil(t, res)
	})

	t.Run("invalidate signs the connection out", func(t *testing.T) {
		c, _, err := dialRPC(t, e.URL(), nil)
		require.NoError(t, err)
		_, msg := c.call("signin", map[string]any{"user": user, "pass": pass})
		require.Empty(t, msg)
		_, msg = c.call("invalidate")
		require.Empty(t, msg)
		res, msg := c.call("query", "SELECT * FROM secret")
		assert.Contains(t, msg, "not signed in")
		assert.Nil(t, res)
	})

	t.Run("a browser page (Origin header) cannot connect", func(t *testing.T) {
		for _, origin := range []string{"https://evil.example", "null", "http://127.0.0.1:8080"} {
			_, res, err := dialRPC(t, e.URL(), http.Header{"Origin": {origin}})
			require.Error(t, err, origin)
			require.NotNil(t, res, origin)
			assert.Equal(t, http.StatusForbidden, res.StatusCode, origin)
		}
	})

	// A restart keeps the credential: pfinni's store reconnects with it.
	first := e.PID()
	e.Kill()
	require.Eventually(t, func() bool { return e.Ready() && e.PID() != first }, 30*time.Second, 50*time.Millisecond)
	again, _, err := dialRPC(t, e.URL(), nil)
	require.NoError(t, err)
	_, msg = again.call("signin", map[string]any{"user": user, "pass": pass})
	assert.Empty(t, msg)
}
