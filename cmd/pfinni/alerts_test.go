package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/bench"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// alertSocket is a /ws/chat connection whose alert frames arrive on C.
type alertSocket struct {
	conn *websocket.Conn
	C    chan map[string]any
}

// dialAlerts opens /ws/chat on base as token's user (query: "" or
// "?alerts_since=…") and waits until the server has subscribed it: the
// server subscribes before it reads the first message, so the answer to
// one proves it.
func dialAlerts(t *testing.T, base, token, query string) *alertSocket {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"/ws/chat"+query, http.Header{"Authorization": {"Bearer " + token}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	s := &alertSocket{conn: conn, C: make(chan map[string]any, 32)}
	answered := make(chan struct{})
	go func() {
		defer close(s.C)
		once := false
		for {
			var f struct {
				Type  string         `json:"type"`
				Alert map[string]any `json:"alert"`
			}
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			switch {
			case f.Type == "alert":
				s.C <- f.Alert
			case (f.Type == "reply" || f.Type == "error") && !once:
				once = true
				close(answered)
			}
		}
	}()
	require.NoError(t, conn.WriteJSON(map[string]any{"message": "any alerts?"}))
	select {
	case <-answered:
	case <-time.After(2 * time.Minute):
		t.Fatal("the socket never answered")
	}
	return s
}

// next is the next alert frame's alert.
func (s *alertSocket) next(t *testing.T, what string) map[string]any {
	t.Helper()
	select {
	case a, ok := <-s.C:
		require.True(t, ok, "socket closed while waiting for %s", what)
		return a
	case <-time.After(2 * time.Minute):
		t.Fatalf("no alert frame: %s", what)
		return nil
	}
}

// Two core processes on one database: a staff user who read a patient
// gets the alert on their WebSockets on both instances when the admin
// changes the patient's status on one of them; a socket that reconnects
// with alerts_since gets what it missed; the stored alerts hold no
// patient identifier.
func TestStatusAlertReachesSocketsOnBothInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts two servers")
	}
	wd, _ := os.Getwd()
	bin := buildBinary(t)
	urlf, err := storetest.Engine()
	require.NoError(t, err)
	cfg := storetest.Config(t)
	dbhost := filepath.Join(wd, "..", "..", "dbhost")
	a := serveProcess(t, bin, urlf(), cfg.Database, dbhost)
	b := serveProcess(t, bin, urlf(), cfg.Database, dbhost)

	ctx := context.Background()
	admin := bench.NewClient(a, 2)
	require.NoError(t, admin.Login(ctx, "admin@example.org", "Two-processes-pass-1"))
	require.NoError(t, admin.Do(ctx, "POST", "/api/v1/users", map[string]any{
		"email": "stella@example.org", "name": "Stella Staff", "role": "staff", "password": "Stella-staff-pass-1"}, nil))
	staffB := bench.NewClient(b, 2)
	require.NoError(t, staffB.Login(ctx, "stella@example.org", "Stella-staff-pass-1"))

	phi := map[string]string{"mrn": "ALERT-PHI-1", "first_name": "Wilhelmina", "last_name": "Quarrington",
		"date_of_birth": "1958-11-23", "sex": "female", "phone": "(503) 555-0147", "email": "w.quarrington@example.org"}
	var p struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	}
	require.NoError(t, admin.Do(ctx, "POST", "/api/v1/patients", phi, &p))
	// The staff user reads the patient on B (a patient "of theirs": read
	// within the last 7 days).
	require.Eventually(t, func() bool { return staffB.Do(ctx, "GET", "/api/v1/patients/"+p.ID, nil, nil) == nil },
		time.Minute, 50*time.Millisecond)

	onB := dialAlerts(t, b, staffB.Token, "")
	onA := dialAlerts(t, a, staffB.Token, "")
	start := time.Now()
	require.NoError(t, admin.Do(ctx, "POST", "/api/v1/patients/"+p.ID+"/status", map[string]any{"to": "active", "version": p.Version}, &p))
	first := onB.next(t, "the change on A, on B's socket")
	t.Logf("alert on the other instance's socket %s after the change (issue 13: within 1 s; printed, not asserted)", time.Since(start))
	assert.Equal(t, "status_changed", first["kind"])
	assert.Equal(t, p.ID, first["patient_id"])
	assert.Equal(t, "Status changed", first["title"])
	assert.Contains(t, first["body"], "Wilhelmina Quarrington was moved from onboarding to active by another user.")
	for _, k := range []string{"id", "at"} {
		assert.NotEmpty(t, first[k], k)
	}
	assert.Equal(t, first["id"], onA.next(t, "the change on A, on A's socket")["id"], "every open tab, on any instance")

	// B's socket goes away; two more changes; a new socket on B with the
	// last id it saw gets both, oldest first.
	_ = onB.conn.Close()
	require.NoError(t, admin.Do(ctx, "POST", "/api/v1/patients/"+p.ID+"/status", map[string]any{"to": "inactive", "version": p.Version}, &p))
	require.NoError(t, admin.Do(ctx, "POST", "/api/v1/patients/"+p.ID+"/status", map[string]any{"to": "active", "version": p.Version}, &p))
	onA.next(t, "second change on A's socket")
	onA.next(t, "third change on A's socket")
	again := dialAlerts(t, b, staffB.Token, "?alerts_since="+first["id"].(string))
	assert.Contains(t, again.next(t, "replayed second change")["body"], "from active to inactive")
	assert.Contains(t, again.next(t, "replayed third change")["body"], "from inactive to active")

	// The bell's list has all three, and nothing stored names the patient.
	var list struct {
		Items  []map[string]any `json:"items"`
		Unread int              `json:"unread"`
	}
	require.NoError(t, staffB.Do(ctx, "GET", "/api/v1/alerts?unread=true", nil, &list))
	assert.Equal(t, 3, list.Unread)
	db, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	defer db.Close()
	rows, err := store.Query[[]map[string]any](ctx, db, "SELECT * FROM alert", nil)
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	dump, err := json.Marshal(rows)
	require.NoError(t, err)
	for _, v := range []string{phi["mrn"], phi["first_name"], phi["last_name"], phi["date_of_birth"], "555-0147", "5035550147", phi["email"]} {
		assert.NotContains(t, strings.ToLower(string(dump)), strings.ToLower(v), "stored alerts hold no patient identifier")
	}
}
