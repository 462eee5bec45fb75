package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/webhooks"
)

// newWebhooks builds the webhook service on db with a started queue
// (deliveries run) that allows loopback receivers.
func newWebhooks(t *testing.T, db *store.DB, log *audit.Log) *webhooks.Service {
	t.Helper()
	q := jobs.New(db, jobs.Options{Logger: quiet, PollInterval: 30 * time.Millisecond})
	key, err := webhooks.LoadKey(filepath.Join(t.TempDir(), "webhook.key"))
	require.NoError(t, err)
	svc, err := webhooks.New(db, q, key, webhooks.Options{AllowPrivate: true, Schedule: []time.Duration{20 * time.Millisecond},
		Logger: quiet, Audit: log})
	require.NoError(t, err)
	require.NoError(t, svc.Register(q))
	require.NoError(t, q.Start(context.Background()))
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	return svc
}

func TestWebhooksAPI(t *testing.T) {
	srv, au := newFullServer(t)
	app := srv.App()
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	answers := []int{500, 200}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		code := 200
		if len(answers) > 0 {
			code, answers = answers[0], answers[1:]
		}
		mu.Unlock()
		w.WriteHeader(code)
	}))
	defer rcv.Close()

	sess, err := au.Login(actor.With(context.Background(), actor.Actor{RequestID: "wh-test", IP: "192.0.2.10"}), "admin@x.example", apiTestPassword)
	require.NoError(t, err)
	admin := "Bearer " + sess.Token
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", admin)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := app.Test(req, 10000)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}

	code, m := call("POST", "/api/v1/webhooks", `{"url":"ftp://example.com/","events":["patient.created"]}`)
	assert.Equal(t, 422, code, "%v", m)
	code, _ = call("POST", "/api/v1/webhooks", `{"url":"`+rcv.URL+`","events":["patient.sneezed"]}`)
	assert.Equal(t, 422, code)

	code, m = call("POST", "/api/v1/webhooks", `{"url":"`+rcv.URL+`/in","events":["patient.created","patient.status_changed"],"description":"EHR"}`)
	require.Equal(t, 201, code, "%v", m)
	id, secret := m["id"].(string), m["secret"].(string)
	assert.True(t, strings.HasPrefix(secret, "whsec_"))

	code, m = call("GET", "/api/v1/webhooks", "")
	require.Equal(t, 200, code)
	assert.EqualValues(t, 1, m["total"])
	assert.NotContains(t, mustJSON(t, m), secret, "the secret is shown once")
	code, m = call("GET", "/api/v1/webhooks/"+id, "")
	require.Equal(t, 200, code)
	assert.Nil(t, m["secret"])

	require.NoError(t, srv.deps.Webhooks.Publish(context.Background(), webhooks.PatientEvent(webhooks.PatientCreated, "p_wh1", 1, nil)))
	var items []any
	require.Eventually(t, func() bool {
		code, m = call("GET", "/api/v1/webhooks/"+id+"/deliveries", "")
		items, _ = m["items"].([]any)
		return code == 200 && len(items) == 1 && items[0].(map[string]any)["status"] == "delivered"
	}, 20*time.Second, 50*time.Millisecond, "%v", m)
	d := items[0].(map[string]any)
	assert.EqualValues(t, 2, d["attempts"])
	assert.EqualValues(t, 200, d["response_code"])
	assert.Equal(t, "patient.created", d["event"])
	for _, k := range []string{"id", "event", "status", "attempts", "response_code", "next_attempt_at", "created_at"} {
		assert.Contains(t, d, k)
	}

	mu.Lock()
	require.Len(t, got, 2)
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(bodies[1], got[1].Header))
	assert.Equal(t, got[0].Header.Get("webhook-id"), got[1].Header.Get("webhook-id"))
	assert.JSONEq(t, `{"patient_id":"p_wh1","version":1}`, mustJSON(t, decode(t, bodies[1])["data"]))
	mu.Unlock()

	code, m = call("POST", "/api/v1/webhooks/"+id+"/deliveries/"+d["id"].(string)+"/replay", "")
	require.Equal(t, 202, code, "%v", m)
	code, _ = call("POST", "/api/v1/webhooks/"+id+"/deliveries/dl_nope/replay", "")
	assert.Equal(t, 404, code)

	code, m = call("PATCH", "/api/v1/webhooks/"+id, `{"paused":true,"rotate_secret":true}`)
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, true, m["paused"])
	assert.True(t, strings.HasPrefix(m["secret"].(string), "whsec_"))
	assert.NotEqual(t, secret, m["secret"])

	code, _ = call("DELETE", "/api/v1/webhooks/"+id, "")
	assert.Equal(t, 204, code)
	code, _ = call("GET", "/api/v1/webhooks/"+id, "")
	assert.Equal(t, 404, code)
}

func decode(t *testing.T, b []byte) map[string]any {
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
