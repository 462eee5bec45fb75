// Package llm is the optional LLM adapter: it sends de-identified text to
// an OpenAI-compatible chat-completions endpoint and returns the answer.
// The core scrubs every text before it reaches this package (names, dates
// of birth, phone numbers, e-mails, addresses and MRNs become
// placeholders); the adapter never asks the host for patient data and is
// granted no capability.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/process"
)

// Intent is the only intent the adapter answers; it never matches a
// message by itself (score 0): the core calls it for phrasing and
// fallback answers only.
const Intent = "llm.phrase"

// Config comes from pfinni's llm_url, llm_model and llm_key settings.
type Config struct {
	URL     string `json:"url"`   // base URL, e.g. http://127.0.0.1:11434/v1
	Model   string `json:"model"` // model name
	Key     string `json:"key"`   // API key (Authorization: Bearer)
	Timeout string `json:"timeout,omitempty"`
}

// systemPrompt keeps the model to what the assistant may do.
const systemPrompt = "You are the help assistant of pfinni, a patient-management dashboard for a small practice. " +
	"Answer briefly and concretely about using the dashboard. Placeholders like [name] or [date] stand for " +
	"removed personal data: never guess them. Do not give medical advice."

// Handler is the intent handler that calls the endpoint.
type Handler struct {
	// Client, if set, sends the requests; nil means the SDK's egress
	// client (sdk/process.HTTPClient), which goes through the host's
	// egress proxy and so reaches only the hosts pfinni allows.
	Client *http.Client

	cfg    Config
	client *http.Client
}

var _ sdk.IntentHandler = (*Handler)(nil)

// Init reads the configuration passed by the host.
func (h *Handler) Init(_ context.Context, raw json.RawMessage) error {
	var c Config
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("llm config: %w", err)
		}
	}
	c.URL = strings.TrimRight(c.URL, "/")
	timeout := 20 * time.Second
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil {
			return fmt.Errorf("llm config: timeout: %w", err)
		}
		timeout = d
	}
	h.cfg, h.client = c, h.Client
	if h.client == nil {
		h.client = process.HTTPClient(timeout)
	}
	return nil
}

// Match never claims a message.
func (h *Handler) Match(context.Context, sdk.MatchRequest) (sdk.MatchResult, error) {
	return sdk.MatchResult{Intent: Intent, Score: 0}, nil
}

// Handle sends the (already de-identified) message and returns the reply.
func (h *Handler) Handle(ctx context.Context, req sdk.IntentRequest) (sdk.IntentReply, error) {
	if h.cfg.URL == "" || h.client == nil {
		return sdk.IntentReply{}, &sdk.Error{Code: sdk.CodeUnavailable, Message: "the LLM adapter has no endpoint configured (llm_url)"}
	}
	body, _ := json.Marshal(map[string]any{
		"model": h.cfg.Model,
		"messages": []map[string]string{
			{"role": "system", "content": systemPrompt},
			{"role": "user", "content": req.Message},
		},
		"temperature": 0.2,
	})
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.URL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return sdk.IntentReply{}, fmt.Errorf("llm request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if h.cfg.Key != "" {
		hreq.Header.Set("Authorization", "Bearer "+h.cfg.Key)
	}
	res, err := h.client.Do(hreq)
	if err != nil {
		return sdk.IntentReply{}, &sdk.Error{Code: sdk.CodeUnavailable, Message: "the LLM endpoint did not answer"}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return sdk.IntentReply{}, fmt.Errorf("llm response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return sdk.IntentReply{}, &sdk.Error{Code: sdk.CodeUnavailable, Message: fmt.Sprintf("the LLM endpoint answered %d", res.StatusCode)}
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Choices) == 0 {
		return sdk.IntentReply{}, errors.New("llm response: not a chat-completions answer")
	}
	return sdk.IntentReply{Intent: Intent, Reply: strings.TrimSpace(out.Choices[0].Message.Content)}, nil
}
