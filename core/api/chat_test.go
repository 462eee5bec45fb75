package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/chat/chattest"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/core/views"
	"github.com/pfinni/pfinni/plugins/intent-guide/guide"
	"github.com/pfinni/pfinni/plugins/intent-patients/patients"
	"github.com/pfinni/pfinni/plugins/kb-hipaa/hipaa"
	"github.com/pfinni/pfinni/sdk"
)

// newChatEnv serves the chat API (in-process first-party plugins) on a
// real database with the real auth, audit and patient services.
func newChatEnv(t *testing.T) (*patientEnv, *chat.Service) {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	svc, err := patient.New(ctx, db, log, patient.WithLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	require.NoError(t, patient.Seed(actor.System(ctx), svc, 40, 42))
	plugs := &chattest.Plugins{List: []sdk.Plugin{
		{Name: "intent-patients", Intent: patients.Handler{}},
		{Name: "intent-guide", Intent: guide.Handler{}},
		{Name: "kb-hipaa", Knowledge: hipaa.Module()},
	}, Host: chattest.Host{Patients: svc}}
	saved := views.New(db, log, views.WithLocation(svc.Location()))
	cs, err := chat.New(ctx, chat.Deps{DB: db, Patients: svc, Intents: plugs, Knowledge: plugs, Audit: log, Views: saved}, chat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 10_000})
	cfg := testConfig(t)
	cfg.APIRateLimit = 1 << 30
	env := &patientEnv{db: db, svc: svc, log: log, tokens: map[actor.Role]string{}}
	env.srv = New(Deps{Logger: quiet, Config: cfg, DB: db, Services: Services{Auth: au, Audit: log, Patients: svc, Chat: cs, Views: saved}})
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		_, err := au.CreateUser(actor.System(ctx), auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, Password: apiTestPassword})
		require.NoError(t, err)
		res, body := do(t, env.srv.App(), "POST", "/api/v1/auth/login", `{"email":"`+string(r)+`@x.example","password":"`+apiTestPassword+`"}`)
		require.Equal(t, 200, res.StatusCode, string(body))
		var s sessionResponse
		require.NoError(t, json.Unmarshal(body, &s))
		env.tokens[r] = s.Token
	}
	return env, cs
}

func TestChatAPI(t *testing.T) {
	env, _ := newChatEnv(t)
	big := `{"message":"` + strings.Repeat("a", 10<<20) + `"}`
	for _, tc := range []struct {
		name   string
		role   actor.Role
		body   string
		status int
		intent string
	}{
		{"staff data question", actor.RoleStaff, `{"message":"show me all active patients","context":{"page":"/patients"}}`, 200, "patients.list"},
		{"admin count", actor.RoleAdmin, `{"message":"how many churned patients?"}`, 200, "patients.count"},
		{"auditor data question is refused politely", actor.RoleAuditor, `{"message":"show me all active patients"}`, 200, chat.IntentForbidden},
		{"auditor HIPAA question", actor.RoleAuditor, `{"message":"HIPAA audit controls"}`, 200, chat.IntentKnowledge},
		{"anonymous", "", `{"message":"hi"}`, 401, ""},
		{"malformed JSON", actor.RoleStaff, `{"message":`, 400, ""},
		{"unknown field", actor.RoleStaff, `{"message":"hi","nope":1}`, 422, ""},
		{"empty message", actor.RoleStaff, `{"message":""}`, 422, ""},
		{"too long message", actor.RoleStaff, `{"message":"` + strings.Repeat("a", 5000) + `"}`, 422, ""},
		{"10 MB message", actor.RoleStaff, big, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out map[string]any
			status := env.call(t, tc.role, "POST", "/api/v1/chat", tc.body, &out)
			assert.Equal(t, tc.status, status, out)
			if tc.intent != "" {
				assert.Equal(t, tc.intent, out["intent"])
				assert.NotEmpty(t, out["reply"])
			}
			if tc.intent == "patients.list" {
				data := out["data"].(map[string]any)
				assert.NotNil(t, data["total"])
				ps := data["patients"].([]any)
				require.NotEmpty(t, ps)
				p := ps[0].(map[string]any)
				assert.NotEmpty(t, p["id"])
				assert.NotEmpty(t, p["mrn"])
			}
		})
	}
	var hist struct{ Items []chat.Message }
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/chat/history?limit=10", "", &hist))
	require.NotEmpty(t, hist.Items)
	assert.Equal(t, "user", hist.Items[0].Role)
	assert.Equal(t, 400, env.call(t, actor.RoleStaff, "GET", "/api/v1/chat/history?limit=x", "", nil))
	assert.Equal(t, 401, env.call(t, "", "GET", "/api/v1/chat/history", "", nil))
}

func TestChatAPIActions(t *testing.T) {
	env, _ := newChatEnv(t)
	page, err := env.svc.List(actor.System(context.Background()), patient.Filter{Statuses: []patient.Status{patient.StatusActive}, Limit: 1})
	require.NoError(t, err)
	p := page.Items[0]
	body := `{"message":"mark this patient as inactive","context":{"page":"/patients/` + p.ID + `","patient_id":"` + p.ID + `"}}`
	var r chat.Reply
	require.Equal(t, 200, env.call(t, actor.RoleAuditor, "POST", "/api/v1/chat", body, &r))
	assert.Equal(t, chat.IntentForbidden, r.Intent)
	assert.Empty(t, r.Actions)

	require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat", body, &r))
	require.Len(t, r.Actions, 1)
	id := r.Actions[0].ID
	// Another user (the admin) cannot confirm the staff member's action.
	assert.Equal(t, 404, env.call(t, actor.RoleAdmin, "POST", "/api/v1/chat/actions/"+id+"/confirm", "", nil))
	var done chat.Reply
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat/actions/"+id+"/confirm", "", &done))
	assert.Contains(t, done.Reply, "inactive")
	got, err := env.svc.Get(actor.System(context.Background()), p.ID)
	require.NoError(t, err)
	assert.Equal(t, patient.StatusInactive, got.Status)
	assert.Equal(t, 404, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat/actions/"+id+"/confirm", "", nil))

	// The patient is inactive now: offer the way back, then cancel it.
	r = chat.Reply{}
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat", strings.Replace(body, "as inactive", "as active", 1), &r))
	require.Len(t, r.Actions, 1)
	require.Equal(t, 204, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat/actions/"+r.Actions[0].ID+"/cancel", "", nil))
	assert.Equal(t, 404, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat/actions/"+r.Actions[0].ID+"/cancel", "", nil))
	assert.Equal(t, 422, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat/actions/x/confirm", `{"bogus":1}`, nil))

	var tour chat.Tour
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/chat/tour", "", &tour))
	assert.False(t, tour.Started)
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "PUT", "/api/v1/chat/tour", `{"step":2}`, &tour))
	assert.Equal(t, 2, tour.Step)
	assert.Equal(t, 422, env.call(t, actor.RoleStaff, "PUT", "/api/v1/chat/tour", `{"step":999}`, nil))
	assert.Equal(t, 422, env.call(t, actor.RoleStaff, "PUT", "/api/v1/chat/tour", `{"nope":1}`, nil))
}

func TestChatWebSocket(t *testing.T) {
	env, _ := newChatEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = env.srv.App().Listener(ln) }()
	t.Cleanup(func() { _ = env.srv.App().Shutdown() })
	url := "ws://" + ln.Addr().String() + "/ws/chat"

	_, res, err := websocket.DefaultDialer.Dial(url, nil)
	require.Error(t, err, "anonymous sockets are refused")
	if res != nil {
		assert.Equal(t, 401, res.StatusCode)
	}
	hdr := http.Header{"Authorization": {"Bearer " + env.tokens[actor.RoleStaff]}}
	conn, _, err := websocket.DefaultDialer.Dial(url, hdr)
	require.NoError(t, err)
	defer conn.Close()
	second, _, err := websocket.DefaultDialer.Dial(url, hdr) // another tab
	require.NoError(t, err)
	defer second.Close()

	require.NoError(t, conn.WriteJSON(chat.Request{Message: "how many active patients?"}))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var gotReply bool
	for !gotReply {
		var f socketFrame
		require.NoError(t, conn.ReadJSON(&f))
		if f.Type == "reply" {
			gotReply = true
			assert.Equal(t, "patients.count", f.Reply.Intent)
		}
	}
	// The other tab sees the conversation (through the database).
	_ = second.SetReadDeadline(time.Now().Add(10 * time.Second))
	roles := map[string]bool{}
	for len(roles) < 2 {
		var f socketFrame
		require.NoError(t, second.ReadJSON(&f))
		require.Equal(t, "message", f.Type)
		roles[f.Message.Role] = true
	}
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte("not json")))
	for {
		var f socketFrame
		require.NoError(t, conn.ReadJSON(&f))
		if f.Type == "error" {
			break
		}
	}
	// A plain GET is not a socket.
	status := env.call(t, actor.RoleStaff, "GET", "/ws/chat", "", nil)
	assert.Equal(t, 400, status)
}

func userID(t *testing.T, env *patientEnv, r actor.Role) string {
	var me struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		ID string `json:"id"`
	}
	require.Equal(t, 200, env.call(t, r, "GET", "/api/v1/auth/me", "", &me))
	if me.User.ID != "" {
		return me.User.ID
	}
	return me.ID
}

// TestChatContractAPI: the panel's contract is served to every signed-in
// role, and a request with a context key outside it is refused.
func TestChatContractAPI(t *testing.T) {
	env, _ := newChatEnv(t)
	var c struct {
		Pages           []string            `json:"pages"`
		ContextKeys     []string            `json:"context_keys"`
		ActionTypes     []string            `json:"action_types"`
		MaxMessageBytes int                 `json:"max_message_bytes"`
		Suggestions     map[string][]string `json:"suggestions"`
	}
	assert.Equal(t, 401, env.call(t, "", "GET", "/api/v1/chat/contract", "", nil))
	for _, role := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		require.Equal(t, 200, env.call(t, role, "GET", "/api/v1/chat/contract", "", &c))
		assert.Equal(t, sdk.ChatPages(), c.Pages)
		assert.Equal(t, sdk.ChatContextKeys(), c.ContextKeys)
		assert.Equal(t, sdk.ChatActionTypes(), c.ActionTypes)
		assert.Equal(t, sdk.MaxChatMessageBytes, c.MaxMessageBytes)
		assert.Len(t, c.Suggestions, len(sdk.ChatPages()))
	}
	// Every context key of the contract is accepted; anything else is not.
	full := `{"message":"what went wrong?","context":{"page":"patient-form","patient_id":"p_x","selection":["p_x"],` +
		`"form":{"name":"patient","errors":[{"field":"mrn","message":"is required"}]},` +
		`"last_error":{"type":"about:blank","title":"Invalid","status":422,"detail":"d","errors":[{"field":"mrn","message":"is required"}],"request_id":"r1"}}}`
	assert.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat", full, nil))
	assert.Equal(t, 422, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat", `{"message":"hi","context":{"selected_ids":["p_x"]}}`, nil))
	assert.Equal(t, 422, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat", `{"message":"hi","context":{"form":{"name":"patient","values":{"mrn":"123"}}}}`, nil),
		"form values are refused, not stored")
	assert.Equal(t, 422, env.call(t, actor.RoleStaff, "POST", "/api/v1/chat", `{"message":"`+strings.Repeat("a", sdk.MaxChatMessageBytes+1)+`"}`, nil))
}
