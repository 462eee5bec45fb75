package emailstub_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/email/emailstub"
)

func post(t *testing.T, url, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The stub answers like Resend: a key is required, messages need from,
// to and subject, idempotency keys dedupe the same body and refuse
// another, injected failures come first, bounces are marked.
func TestStubSpeaksResend(t *testing.T) {
	s := emailstub.New()
	hs := httptest.NewServer(s)
	defer hs.Close()
	key := []string{"Authorization", "Bearer re_test_1"}
	msg := `{"from":"p@x.example","to":["a@x.example"],"subject":"hi","text":"t"}`

	code, _ := post(t, hs.URL+"/emails", msg)
	assert.Equal(t, 401, code, "no API key")
	code, _ = post(t, hs.URL+"/emails", `{"to":["a@x.example"]}`, key...)
	assert.Equal(t, 422, code)
	code, _ = post(t, hs.URL+"/emails", msg, append(key, "Idempotency-Key", strings.Repeat("k", 257))...)
	assert.Equal(t, 400, code)

	code, body := post(t, hs.URL+"/emails", msg, append(key, "Idempotency-Key", "a/1")...)
	require.Equal(t, 200, code)
	code, again := post(t, hs.URL+"/emails", msg, append(key, "Idempotency-Key", "a/1")...)
	require.Equal(t, 200, code)
	assert.JSONEq(t, body, again, "same key, same body: the same message")
	code, _ = post(t, hs.URL+"/emails", strings.Replace(msg, "hi", "other", 1), append(key, "Idempotency-Key", "a/1")...)
	assert.Equal(t, 409, code, "same key, another body")

	code, _ = post(t, hs.URL+"/_stub/fail", `{"status":503,"count":2}`)
	require.Equal(t, 204, code)
	for range 2 {
		code, _ = post(t, hs.URL+"/emails", msg, key...)
		assert.Equal(t, 503, code)
	}
	code, _ = post(t, hs.URL+"/_stub/fail", `{"status":200}`)
	assert.Equal(t, 400, code)
	code, _ = post(t, hs.URL+"/_stub/bounce", `{}`)
	assert.Equal(t, 400, code)
	code, _ = post(t, hs.URL+"/_stub/bounce", `{"address":"A@x.example"}`)
	require.Equal(t, 204, code)
	code, _ = post(t, hs.URL+"/emails", msg, key...)
	require.Equal(t, 200, code)
	code, _ = post(t, hs.URL+"/nowhere", "{}")
	assert.Equal(t, 404, code)

	res, err := http.Get(hs.URL + "/_stub/messages")
	require.NoError(t, err)
	defer res.Body.Close()
	var got struct{ Data []emailstub.Message }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&got))
	require.Len(t, got.Data, 2)
	assert.False(t, got.Data[0].Bounced)
	assert.True(t, got.Data[1].Bounced)
	assert.Equal(t, "a/1", got.Data[0].IdempotencyKey)
	assert.Len(t, s.Requests(), 9)
}
