package llm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
)

func TestHandle(t *testing.T) {
	var got map[string]any
	answers := map[string]func(w http.ResponseWriter){
		"ok": func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, `{"choices":[{"message":{"content":"  Use the Patients page. "}}]}`)
		},
		"down":    func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
		"garbage": func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"nope":1}`) },
	}
	mode := "ok"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		answers[mode](w)
	}))
	defer srv.Close()
	ctx := context.Background()

	h := &Handler{Client: srv.Client()}
	require.NoError(t, h.Init(ctx, json.RawMessage(`{"url":"`+srv.URL+`/v1/","model":"m1","key":"k","timeout":"5s"}`)))
	m, err := h.Match(ctx, sdk.MatchRequest{Message: "anything"})
	require.NoError(t, err)
	assert.Zero(t, m.Score, "never claims a message")

	r, err := h.Handle(ctx, sdk.IntentRequest{Message: "how do I add [name]?"})
	require.NoError(t, err)
	assert.Equal(t, "Use the Patients page.", r.Reply)
	assert.Equal(t, "m1", got["model"])

	var se *sdk.Error
	mode = "down"
	_, err = h.Handle(ctx, sdk.IntentRequest{Message: "x"})
	require.True(t, errors.As(err, &se))
	assert.Equal(t, sdk.CodeUnavailable, se.Code)
	mode = "garbage"
	_, err = h.Handle(ctx, sdk.IntentRequest{Message: "x"})
	assert.ErrorContains(t, err, "not a chat-completions answer")

	srv.Close()
	_, err = h.Handle(ctx, sdk.IntentRequest{Message: "x"})
	require.True(t, errors.As(err, &se), "endpoint unreachable")
}

func TestConfig(t *testing.T) {
	ctx := context.Background()
	h := &Handler{}
	assert.Error(t, h.Init(ctx, json.RawMessage(`{`)))
	assert.Error(t, h.Init(ctx, json.RawMessage(`{"timeout":"soon"}`)))
	require.NoError(t, h.Init(ctx, nil))
	_, err := h.Handle(ctx, sdk.IntentRequest{Message: "x"})
	assert.ErrorContains(t, err, "no endpoint configured")
}

// By default the adapter sends through the host's egress proxy; started
// without one, it reaches nothing (it never falls back to a direct
// connection).
func TestDefaultClientNeedsTheEgressProxy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the request went out without the egress proxy")
	}))
	defer srv.Close()
	t.Setenv("PFINNI_EGRESS_PROXY", "")
	h := &Handler{}
	require.NoError(t, h.Init(context.Background(), json.RawMessage(`{"url":"`+srv.URL+`/v1"}`)))
	_, err := h.Handle(context.Background(), sdk.IntentRequest{Message: "x"})
	var se *sdk.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sdk.CodeUnavailable, se.Code)
}
