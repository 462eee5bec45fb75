package email

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/resend/resend-go/v3"
)

// Resend sends through Resend's HTTP API (resend-go). It does not retry:
// the job queue does.
type Resend struct {
	client *resend.Client
	from   string
}

// NewResend returns the adapter for apiKey, sending from from. baseURL
// empty means https://api.resend.com/ (the stub: http://127.0.0.1:8091/).
func NewResend(apiKey, baseURL, from string) (*Resend, error) {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: statusTransport{http.DefaultTransport}}
	c := resend.NewCustomClient(hc, apiKey)
	if baseURL == "" {
		baseURL = "https://api.resend.com/"
	}
	if !strings.HasSuffix(baseURL, "/") {
		baseURL += "/"
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("resend base url: %w", err)
	}
	c.BaseURL = u
	return &Resend{client: c, from: from}, nil
}

// statusTransport records each answer's status code where the request's
// context asks for it: resend-go reports most failures as plain text.
type statusTransport struct{ next http.RoundTripper }

type statusKey struct{}

func (t statusTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if p, ok := r.Context().Value(statusKey{}).(*int); ok && resp != nil {
		*p = resp.StatusCode
	}
	return resp, err
}

// Send posts m to /emails with key as the Idempotency-Key header.
func (r *Resend) Send(ctx context.Context, m Message, key string) (string, error) {
	status := 0
	ctx = context.WithValue(ctx, statusKey{}, &status)
	resp, err := r.client.Emails.SendWithOptions(ctx, &resend.SendEmailRequest{
		From: r.from, To: []string{m.To}, Subject: m.Subject, Text: m.Text, Html: m.HTML,
	}, &resend.SendEmailOptions{IdempotencyKey: key})
	if err == nil {
		return resp.Id, nil
	}
	var rl *resend.RateLimitError
	if errors.As(err, &rl) {
		return "", fmt.Errorf("send e-mail: %w", &RateLimitedError{RetryAfter: parseRetryAfter(rl.RetryAfter)})
	}
	if status != 0 {
		// The provider's message may quote the address: keep only the status.
		return "", fmt.Errorf("send e-mail: %w", &StatusError{Status: status})
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("send e-mail: %w", ctx.Err())
	}
	return "", fmt.Errorf("send e-mail: reach the provider: %w", err)
}

// parseRetryAfter reads seconds or an HTTP date.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
