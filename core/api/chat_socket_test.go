package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
)

// socketEnv serves newChatEnv's server on a real listener.
type socketEnv struct {
	env  *patientEnv
	addr string
}

func newSocketEnv(t *testing.T) *socketEnv {
	t.Helper()
	env, _ := newChatEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = env.srv.App().Listener(ln) }()
	t.Cleanup(func() { _ = env.srv.App().Shutdown() })
	return &socketEnv{env: env, addr: ln.Addr().String()}
}

// signIn opens a new session for the role's user and returns its token.
func (e *socketEnv) signIn(t *testing.T, r actor.Role) string {
	t.Helper()
	res, body := do(t, e.env.srv.App(), "POST", "/api/v1/auth/login", `{"email":"`+string(r)+`@x.example","password":"`+apiTestPassword+`"}`)
	require.Equal(t, 200, res.StatusCode, string(body))
	var s sessionResponse
	require.NoError(t, json.Unmarshal(body, &s))
	return s.Token
}

func (e *socketEnv) dial(token, origin string) (*websocket.Conn, *http.Response, error) {
	hdr := http.Header{"Authorization": {"Bearer " + token}}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	return websocket.DefaultDialer.Dial("ws://"+e.addr+"/ws/chat", hdr)
}

// untilClosed reads frames until the server closes the socket and
// returns the last error frame seen and the close code.
func untilClosed(t *testing.T, ws *websocket.Conn, within time.Duration) (last socketFrame, code int) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(within))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			require.ErrorAs(t, err, &ce, "the server closed the socket (not a read timeout)")
			return last, ce.Code
		}
		var f socketFrame
		require.NoError(t, json.Unmarshal(data, &f))
		if f.Type == "error" {
			last = f
		}
	}
}

// H3: only pfinni's own pages may open the socket (the browser sends the
// session cookie along to any origin's page).
func TestChatSocketOrigin(t *testing.T) {
	e := newSocketEnv(t)
	token := e.env.tokens[actor.RoleStaff]
	for _, tc := range []struct {
		origin string
		status int
	}{
		{"https://evil.example", 403},
		{"http://" + e.addr + ".evil.example", 403},
		{"null", 403},
		{"http://" + e.addr, 101},
		{"", 101}, // not a browser: nothing ambient to abuse
	} {
		ws, res, err := e.dial(token, tc.origin)
		if tc.status == 101 {
			require.NoError(t, err, tc.origin)
			ws.Close()
			continue
		}
		require.Error(t, err, tc.origin)
		require.NotNil(t, res, tc.origin)
		assert.Equal(t, tc.status, res.StatusCode, tc.origin)
	}

	// With public_url set, the Origin must be that one.
	e.env.srv.cfg.PublicURL = "https://pfinni.example.org/app"
	_, res, err := e.dial(token, "http://"+e.addr)
	require.Error(t, err)
	assert.Equal(t, 403, res.StatusCode)
	ws, _, err := e.dial(token, "https://pfinni.example.org")
	require.NoError(t, err)
	ws.Close()
}

// H3: a socket ends with its session — signed out elsewhere or the
// account disabled — even when its client sends nothing.
func TestChatSocketEndsWithSession(t *testing.T) {
	e := newSocketEnv(t)
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, token string)
	}{
		{"signed out in another tab", func(t *testing.T, token string) {
			status, _ := do(t, e.env.srv.App(), "POST", "/api/v1/auth/logout", "", "Authorization", "Bearer "+token)
			require.Equal(t, 204, status.StatusCode)
		}},
		{"account disabled", func(t *testing.T, _ string) {
			var staff struct {
				User struct{ ID string } `json:"user"`
			}
			require.Equal(t, 200, e.env.call(t, actor.RoleStaff, "GET", "/api/v1/auth/me", "", &staff))
			require.Equal(t, 200, e.env.call(t, actor.RoleAdmin, "PATCH", "/api/v1/users/"+staff.User.ID, `{"disabled":true}`, nil))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := e.signIn(t, actor.RoleStaff)
			ws, _, err := e.dial(token, "")
			require.NoError(t, err)
			defer ws.Close()
			tc.end(t, token)
			last, code := untilClosed(t, ws, 30*time.Second)
			assert.Equal(t, websocket.ClosePolicyViolation, code)
			assert.Equal(t, "error", last.Type)
			assert.Equal(t, 401, last.Status)
			assert.NotEmpty(t, last.Error)
		})
	}
}

// H3: every frame is authenticated again: a message sent after the
// session ended is not answered, and the socket closes.
func TestChatSocketChecksEveryMessage(t *testing.T) {
	e := newSocketEnv(t)
	token := e.signIn(t, actor.RoleAdmin)
	ws, _, err := e.dial(token, "")
	require.NoError(t, err)
	defer ws.Close()
	// The session ends; the message below is refused at once (the
	// periodic check may also close the socket first: either way no
	// answer comes).
	res, _ := do(t, e.env.srv.App(), "POST", "/api/v1/auth/logout", "", "Authorization", "Bearer "+token)
	require.Equal(t, 204, res.StatusCode)
	require.NoError(t, ws.WriteJSON(map[string]any{"message": "how many active patients?"}))
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			break // closed
		}
		var f socketFrame
		require.NoError(t, json.Unmarshal(data, &f))
		assert.NotEqual(t, "reply", f.Type, "no answer after the session ended")
	}
}

// H3: a socket may not flood the assistant; errors carry problem text.
func TestChatSocketRateLimit(t *testing.T) {
	e := newSocketEnv(t)
	ws, _, err := e.dial(e.env.tokens[actor.RoleAuditor], "")
	require.NoError(t, err)
	defer ws.Close()
	statuses := map[int]int{}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for range socketMessagesPerMinute + 40 {
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("not json")))
		var f socketFrame
		require.NoError(t, ws.ReadJSON(&f))
		require.Equal(t, "error", f.Type)
		statuses[f.Status]++
	}
	// The bucket refills by one a second, so a slow run sees a few more 400s.
	assert.GreaterOrEqual(t, statuses[400], socketMessagesPerMinute, "malformed messages are answered 400 until the limit")
	assert.Positive(t, statuses[429], "then the socket is throttled")
	assert.Equal(t, socketMessagesPerMinute+40, statuses[400]+statuses[429])
}

func TestErrorFrameHidesInternals(t *testing.T) {
	f := errorFrame(context.DeadlineExceeded, "req-1")
	assert.Equal(t, 500, f.Status)
	assert.NotContains(t, f.Error, "deadline")
	f = errorFrame(auth.ErrNoSession, "req-1")
	assert.Equal(t, 401, f.Status)
	assert.Contains(t, f.Error, "session has ended")
}
