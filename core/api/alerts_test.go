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
	"github.com/pfinni/pfinni/core/alerts"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// newAlerts is the alert service on db (no rules running: tests raise
// alerts themselves).
func newAlerts(t *testing.T, db *store.DB, patients alerts.Patients) *alerts.Service {
	t.Helper()
	svc, err := alerts.New(context.Background(), alerts.Deps{DB: db, Patients: patients, Logger: quiet}, alerts.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	return svc
}

// newAlertEnv serves patients, chat sockets and alerts, with a user and
// a bearer token per role.
func newAlertEnv(t *testing.T) (*patientEnv, *alerts.Service, map[actor.Role]string) {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	ps, err := patient.New(ctx, db, log, patient.WithLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	svc := newAlerts(t, db, ps)
	_, cs := newChatEnv(t) // a chat service of its own database: /ws/chat needs one
	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 10_000})
	cfg := testConfig(t)
	cfg.APIRateLimit = 1 << 30
	env := &patientEnv{db: db, svc: ps, log: log, tokens: map[actor.Role]string{}}
	env.srv = New(Deps{Logger: quiet, Config: cfg, DB: db, Services: Services{Auth: au, Audit: log, Patients: ps, Chat: cs, Alerts: svc}})
	ids := map[actor.Role]string{}
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		u, err := au.CreateUser(actor.System(ctx), auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, Password: apiTestPassword})
		require.NoError(t, err)
		ids[r] = u.ID
		res, body := do(t, env.srv.App(), "POST", "/api/v1/auth/login", `{"email":"`+string(r)+`@x.example","password":"`+apiTestPassword+`"}`)
		require.Equal(t, 200, res.StatusCode, string(body))
		var s sessionResponse
		require.NoError(t, json.Unmarshal(body, &s))
		env.tokens[r] = s.Token
	}
	return env, svc, ids
}

func TestAlertsAPI(t *testing.T) {
	env, svc, ids := newAlertEnv(t)
	p, err := env.svc.Create(actor.System(context.Background()), patient.Input{MRN: "MRN-AL-1", FirstName: "Orla", LastName: "Penhallow",
		DateOfBirth: "1970-01-02", Sex: "female", Status: patient.StatusOnboarding})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = svc.Raise(ctx, alerts.Firing{Kind: alerts.KindBirthday, Key: "b1", PatientID: p.ID}, []string{ids[actor.RoleStaff], ids[actor.RoleAuditor]})
	require.NoError(t, err)
	_, err = svc.Raise(ctx, alerts.Firing{Kind: alerts.KindImportFinished, Key: "i1", Ref: "import_job:x",
		Counts: map[string]int{"created": 4}}, []string{ids[actor.RoleStaff]})
	require.NoError(t, err)

	var list AlertList
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/alerts?unread=true", "", &list))
	require.Len(t, list.Items, 2)
	assert.Equal(t, 2, list.Unread)
	byKind := map[alerts.Kind]alerts.View{}
	for _, v := range list.Items {
		byKind[v.Kind] = v
	}
	assert.Equal(t, "Orla Penhallow has a birthday today.", byKind[alerts.KindBirthday].Body, "composed for staff, who may read the patient")
	assert.Equal(t, p.ID, byKind[alerts.KindBirthday].PatientID)
	assert.Contains(t, byKind[alerts.KindImportFinished].Body, "4 created")

	var blind AlertList
	require.Equal(t, 200, env.call(t, actor.RoleAuditor, "GET", "/api/v1/alerts", "", &blind))
	require.Len(t, blind.Items, 1)
	assert.Equal(t, "A patient has a birthday today.", blind.Items[0].Body, "an auditor may not read the patient: no name")

	for _, tc := range []struct{ name, path string }{
		{"unknown parameter", "/api/v1/alerts?since=1"},
		{"bad unread", "/api/v1/alerts?unread=maybe"},
		{"bad limit", "/api/v1/alerts?limit=x"},
		{"limit too large", "/api/v1/alerts?limit=5000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, env.srv.App(), "GET", tc.path, "", env.as(actor.RoleStaff)...)
			assert.Equal(t, 422, res.StatusCode, string(body))
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
		})
	}

	id := byKind[alerts.KindBirthday].ID
	var read alerts.View
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/alerts/"+id+"/read", "", &read))
	assert.True(t, read.Read)
	assert.Equal(t, 404, env.call(t, actor.RoleAdmin, "POST", "/api/v1/alerts/"+id+"/read", "", nil), "not the admin's alert")
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/alerts?unread=true", "", &list))
	assert.Len(t, list.Items, 1)

	var all struct{ Marked, Unread int }
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/alerts/read-all", "", &all))
	assert.Equal(t, 1, all.Marked)
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/alerts?unread=true", "", &list))
	assert.Empty(t, list.Items)
	assert.Equal(t, 401, env.call(t, "", "GET", "/api/v1/alerts", "", nil))
}

// An alert reaches every open socket of its user as an alert frame; a
// socket that reconnects with alerts_since gets the alerts it missed.
func TestAlertFramesAndReplay(t *testing.T) {
	env, svc, ids := newAlertEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = env.srv.App().Listener(ln) }()
	t.Cleanup(func() { _ = env.srv.App().Shutdown() })
	base := "ws://" + ln.Addr().String() + "/ws/chat"
	hdr := http.Header{"Authorization": {"Bearer " + env.tokens[actor.RoleStaff]}}
	dial := func(url string) *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(url, hdr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	nextAlert := func(c *websocket.Conn) map[string]any {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		for {
			var f map[string]any
			require.NoError(t, c.ReadJSON(&f))
			if f["type"] == "alert" {
				a, ok := f["alert"].(map[string]any)
				require.True(t, ok, "the frame carries the alert: %v", f)
				return a
			}
		}
	}
	// A socket answers its first message only after it subscribed.
	ready := func(c *websocket.Conn) {
		require.NoError(t, c.WriteJSON(map[string]any{"message": "hello"}))
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		for {
			var f map[string]any
			require.NoError(t, c.ReadJSON(&f))
			if f["type"] == "reply" || f["type"] == "error" {
				return
			}
		}
	}
	tab1, tab2 := dial(base), dial(base)
	ready(tab1)
	ready(tab2)
	raise := func(key string) {
		_, err := svc.Raise(context.Background(), alerts.Firing{Kind: alerts.KindPluginOut, Key: key, Ref: "plugin:" + key}, []string{ids[actor.RoleStaff]})
		require.NoError(t, err)
	}
	raise("first")
	first := nextAlert(tab1)
	for _, k := range []string{"id", "kind", "title", "body", "at"} {
		assert.NotEmpty(t, first[k], k)
	}
	assert.Equal(t, "plugin_out_of_service", first["kind"])
	assert.Equal(t, "Plugin out of service", first["title"])
	assert.Equal(t, first["id"], nextAlert(tab2)["id"], "every open tab")
	_ = tab1.Close()

	raise("second")
	raise("third")
	again := dial(base + "?alerts_since=" + first["id"].(string))
	missed := []string{nextAlert(again)["body"].(string), nextAlert(again)["body"].(string)}
	assert.Contains(t, missed[0], "plugin second", "replayed oldest first")
	assert.Contains(t, missed[1], "plugin third")
}
