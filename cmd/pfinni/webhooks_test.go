package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/bench"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// hookReceiver is a receiver on 127.0.0.1 that keeps every request and
// answers 500 to the first failFirst requests of a chosen event type.
type hookReceiver struct {
	srv       *httptest.Server
	mu        sync.Mutex
	bodies    [][]byte
	headers   []http.Header
	failType  string
	failFirst int
}

func newHookReceiver(t *testing.T, failType string, failFirst int) *hookReceiver {
	r := &hookReceiver{failType: failType, failFirst: failFirst}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(b, &m)
		r.mu.Lock()
		r.bodies, r.headers = append(r.bodies, b), append(r.headers, req.Header.Clone())
		fail := m.Type == r.failType && r.failFirst > 0
		if fail {
			r.failFirst--
		}
		r.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) snapshot() ([][]byte, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]http.Header(nil), r.headers...)
}

// Outgoing webhooks from real `pfinni serve` processes: a receiver on
// 127.0.0.1 (webhook_allow_private on) gets every patient event, each
// signed so that the Standard Webhooks library verifies it; the first
// patient.created is answered 500 twice and arrives on the third
// attempt with the same webhook-id; no name, birth date, phone or e-mail
// of the patient is in any payload, delivery log or job. A second
// process with the setting off refuses to register metadata, private,
// loopback and localhost URLs.
func TestWebhooksFromARunningServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts servers")
	}
	bin := buildBinary(t)
	urlf, err := storetest.Engine()
	require.NoError(t, err)
	cfg := storetest.Config(t)
	_, base := startServe(t, bin, urlf(), cfg.Database, "PFINNI_WEBHOOK_ALLOW_PRIVATE=true", "PFINNI_WEBHOOK_RETRY_SCHEDULE=300ms,300ms,5s")
	ctx := context.Background()
	c := bench.NewClient(base, 2)
	require.NoError(t, c.Login(ctx, "admin@example.org", serveAdminPassword))

	rcv := newHookReceiver(t, "patient.created", 2)
	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	require.NoError(t, c.Do(ctx, "POST", "/api/v1/webhooks", map[string]any{"url": rcv.srv.URL + "/pfinni",
		"events": []string{"patient.created", "patient.updated", "patient.status_changed", "patient.deleted", "import.finished", "alert.raised"}}, &ep))
	require.True(t, strings.HasPrefix(ep.Secret, "whsec_"))

	phi := map[string]string{"first_name": "Wilhelmina", "last_name": "Hookworthy", "date_of_birth": "1961-07-19",
		"phone": "(617) 555-0199", "email": "wilhelmina.hookworthy@example.org"}
	var p struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	}
	in := map[string]any{"mrn": "HOOK-1", "sex": "female"}
	for k, v := range phi {
		in[k] = v
	}
	require.NoError(t, c.Do(ctx, "POST", "/api/v1/patients", in, &p))
	require.NoError(t, c.Do(ctx, "PATCH", "/api/v1/patients/"+p.ID, map[string]any{"version": p.Version, "phone": "(617) 555-0100"}, &p))
	require.NoError(t, c.Do(ctx, "POST", "/api/v1/patients/"+p.ID+"/status", map[string]any{"to": "active"}, &p))
	require.NoError(t, c.Do(ctx, "DELETE", "/api/v1/patients/"+p.ID, nil, nil))

	want := []string{"patient.created", "patient.updated", "patient.status_changed", "patient.deleted"}
	var bodies [][]byte
	var headers []http.Header
	if !assert.Eventually(t, func() bool {
		bodies, headers = rcv.snapshot()
		return len(bodies) >= len(want)+2
	}, 2*time.Minute, 50*time.Millisecond, "deliveries arrive") {
		db, err := store.Open(ctx, cfg)
		require.NoError(t, err)
		defer db.Close()
		for _, q := range []string{"SELECT event, status, attempts, last_error FROM webhook_delivery",
			"SELECT action, version, at FROM patient_history", "SELECT * FROM webhook_sweep", "SELECT created_at FROM webhook_endpoint", "SELECT * FROM status_change"} {
			rows, err := store.Query[[]map[string]any](ctx, db, q, nil)
			t.Log(q, rows, err)
		}
		for _, b := range bodies {
			t.Log(string(b))
		}
		t.FailNow()
	}

	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	require.NoError(t, err)
	byType := map[string][]string{} // type -> webhook-ids seen
	for i, b := range bodies {
		require.NoError(t, wh.Verify(b, headers[i]), "delivery %d verifies", i)
		var m struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(b, &m))
		assert.Equal(t, p.ID, m.Data["patient_id"])
		byType[m.Type] = append(byType[m.Type], headers[i].Get("webhook-id"))
		for field, v := range phi {
			assert.NotContains(t, string(b), v, "payload carries no %s", field)
		}
		assert.NotContains(t, string(b), "555-0100")
	}
	for _, e := range want {
		assert.NotEmpty(t, byType[e], "a delivery of %s", e)
	}
	created := byType["patient.created"]
	require.Len(t, created, 3, "500, 500, then delivered on the third attempt")
	assert.Equal(t, created[0], created[1])
	assert.Equal(t, created[0], created[2])

	var dl struct {
		Items []struct {
			Event    string `json:"event"`
			Status   string `json:"status"`
			Attempts int    `json:"attempts"`
		} `json:"items"`
		Total int `json:"total"`
	}
	require.Eventually(t, func() bool {
		return c.Do(ctx, "GET", "/api/v1/webhooks/"+ep.ID+"/deliveries", nil, &dl) == nil && dl.Total == 4 &&
			func() bool {
				for _, d := range dl.Items {
					if d.Status != "delivered" {
						return false
					}
				}
				return true
			}()
	}, 10*time.Second, 50*time.Millisecond)
	for _, d := range dl.Items {
		if d.Event == "patient.created" {
			assert.Equal(t, 3, d.Attempts)
		}
	}

	// Delivery logs and the job queue hold nothing of the patient either.
	db, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	defer db.Close()
	for _, q := range []string{"SELECT * FROM webhook_delivery", "SELECT * FROM webhook_endpoint", "SELECT * FROM job WHERE kind = 'webhooks.deliver'"} {
		rows, err := store.Query[[]map[string]any](ctx, db, q, nil)
		require.NoError(t, err)
		require.NotEmpty(t, rows, q)
		dump := fmt.Sprint(rows)
		for field, v := range phi {
			assert.NotContains(t, dump, v, "%s holds no %s", q, field)
		}
		assert.NotContains(t, dump, strings.TrimPrefix(ep.Secret, "whsec_"), "the secret is stored sealed")
	}

	// With webhook_allow_private off, private destinations are refused.
	_, strict := startServe(t, bin, urlf(), cfg.Database)
	sc := bench.NewClient(strict, 1)
	require.NoError(t, sc.Login(ctx, "admin@example.org", serveAdminPassword))
	for _, u := range []string{"http://169.254.169.254/", "http://10.0.0.1/", "http://[::1]/", "http://localhost/", rcv.srv.URL} {
		body, _ := json.Marshal(map[string]any{"url": u, "events": []string{"patient.created"}})
		req, _ := http.NewRequest("POST", strict+"/api/v1/webhooks", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+sc.Token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "registration of %s is refused", u)
	}
}
