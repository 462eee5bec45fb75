package emailstub_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/email/emailstub"
)

// POST /_stub/events sends a Resend-style event, signed the Svix way
// (svix-* headers carrying the Standard Webhooks signature), to the
// configured webhook and reports its answer; without a webhook, or
// without type and recipient, it refuses.
func TestStubSendsSignedEvents(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	var mu sync.Mutex
	var got []map[string]any
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := http.Header{}
		for _, n := range []string{"id", "timestamp", "signature"} {
			h.Set("webhook-"+n, r.Header.Get("svix-"+n))
		}
		wh, _ := standardwebhooks.NewWebhook(secret)
		if wh.Verify(body, h) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer rcv.Close()
	s := emailstub.New()
	hs := httptest.NewServer(s)
	defer hs.Close()

	code, body := post(t, hs.URL+"/_stub/events", `{"type":"email.bounced","to":"gone@x.example"}`)
	assert.Equal(t, http.StatusBadGateway, code, "no webhook set: %s", body)

	s.SetWebhook(rcv.URL, secret)
	code, body = post(t, hs.URL+"/_stub/events", `{"type":"email.bounced","to":"gone@x.example"}`)
	require.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"status":200}`, body)
	code, _ = post(t, hs.URL+"/_stub/events", `{"type":"email.complained"}`)
	assert.Equal(t, http.StatusBadRequest, code)

	s.SetWebhook(rcv.URL, "whsec_"+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	code, body = post(t, hs.URL+"/_stub/events", `{"type":"email.complained","to":"gone@x.example"}`)
	require.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"status":400}`, body, "another secret does not verify")

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1)
	assert.Equal(t, "email.bounced", got[0]["type"])
	data := got[0]["data"].(map[string]any)
	assert.Equal(t, []any{"gone@x.example"}, data["to"])
	assert.Equal(t, "Permanent", data["bounce"].(map[string]any)["type"])
}
