// Package emailstub is a local stand-in for Resend's HTTP API, for
// development (`pfinni dev email-stub`) and tests. It accepts
// POST /emails (Bearer key required) with Idempotency-Key semantics,
// records every message it accepted, and can be told to answer 429 (with
// Retry-After) or 5xx to the next requests. Addresses it is told bounce
// are accepted and recorded as bounced, like Resend's bounced@resend.dev.
//
// Inspection: GET /_stub/messages lists what was accepted; POST
// /_stub/fail {"status":429,"count":1,"retry_after":2} queues failures.
// Like Resend, it can POST signed events (email.bounced,
// email.complained) to pfinni's /api/v1/email/events: SetWebhook names
// the URL and signing secret, POST /_stub/events {"type","to"} (or
// SendEvent) sends one.
package emailstub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Message is one accepted e-mail.
type Message struct {
	ID             string    `json:"id"`
	From           string    `json:"from"`
	To             []string  `json:"to"`
	Subject        string    `json:"subject"`
	Text           string    `json:"text"`
	HTML           string    `json:"html"`
	IdempotencyKey string    `json:"idempotency_key"`
	Bounced        bool      `json:"bounced"`
	At             time.Time `json:"at"`
}

// Request is one POST /emails the stub received, whatever it answered.
type Request struct {
	IdempotencyKey string    `json:"idempotency_key"`
	Status         int       `json:"status"`
	At             time.Time `json:"at"`
}

type failure struct {
	status     int
	retryAfter int
}

type idem struct {
	sum [32]byte
	id  string
	at  time.Time
}

// Server is the stub. The zero value is not usable; use New.
type Server struct {
	mu       sync.Mutex
	messages []Message
	requests []Request
	fail     []failure
	keys     map[string]idem
	bounce   map[string]bool
	n        int
	hookURL  string
	hookKey  string
	client   *http.Client
}

// New returns an empty stub.
func New() *Server {
	return &Server{keys: map[string]idem{}, bounce: map[string]bool{}, client: &http.Client{Timeout: 30 * time.Second}}
}

// SetWebhook makes SendEvent POST to url, signed with secret ("whsec_…")
// the way Resend signs (Svix headers).
func (s *Server) SetWebhook(url, secret string) {
	s.mu.Lock()
	s.hookURL, s.hookKey = url, secret
	s.mu.Unlock()
}

// SendEvent POSTs one Resend event of type typ (email.bounced with a
// permanent bounce, email.complained, …) about a message to address to
// the webhook, signed, and returns the status it answered.
func (s *Server) SendEvent(ctx context.Context, typ, to string) (int, error) {
	s.mu.Lock()
	hookURL, key := s.hookURL, s.hookKey
	s.n++
	n := s.n
	s.mu.Unlock()
	if hookURL == "" {
		return 0, errors.New("e-mail stub: no webhook set (SetWebhook, or --webhook-url and --webhook-secret)")
	}
	data := map[string]any{"email_id": fmt.Sprintf("stub-%06d", n), "from": "pfinni@localhost", "to": []string{to},
		"subject": "stub", "created_at": time.Now().UTC()}
	if typ == "email.bounced" {
		data["bounce"] = map[string]string{"type": "Permanent", "subType": "General", "message": "stub bounce"}
	}
	body, err := json.Marshal(map[string]any{"type": typ, "created_at": time.Now().UTC(), "data": data})
	if err != nil {
		return 0, fmt.Errorf("e-mail stub event: %w", err)
	}
	wh, err := standardwebhooks.NewWebhook(key)
	if err != nil {
		return 0, fmt.Errorf("e-mail stub event: signing secret: %w", err)
	}
	id, ts := fmt.Sprintf("msg_stub%06d", n), time.Now()
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		return 0, fmt.Errorf("e-mail stub event: sign: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("e-mail stub event: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("svix-id", id)
	req.Header.Set("svix-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("svix-signature", sig)
	res, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("e-mail stub event: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	return res.StatusCode, nil
}

// FailNext makes the next count POST /emails answer status (429 carries
// Retry-After: retryAfter seconds).
func (s *Server) FailNext(status, count, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range count {
		s.fail = append(s.fail, failure{status: status, retryAfter: retryAfter})
	}
}

// Bounce makes messages to address bounce (accepted, marked bounced).
func (s *Server) Bounce(address string) {
	s.mu.Lock()
	s.bounce[strings.ToLower(address)] = true
	s.mu.Unlock()
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Requests returns every POST /emails received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ServeHTTP implements the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/emails":
		s.send(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/_stub/messages":
		writeJSON(w, http.StatusOK, map[string]any{"data": s.Messages()})
	case r.Method == http.MethodPost && r.URL.Path == "/_stub/fail":
		var in struct {
			Status     int `json:"status"`
			Count      int `json:"count"`
			RetryAfter int `json:"retry_after"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Status < 400 {
			writeError(w, http.StatusBadRequest, "validation_error", "want {status, count, retry_after}")
			return
		}
		s.FailNext(in.Status, max(in.Count, 1), in.RetryAfter)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && r.URL.Path == "/_stub/events":
		var in struct {
			Type string `json:"type"`
			To   string `json:"to"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Type == "" || in.To == "" {
			writeError(w, http.StatusBadRequest, "validation_error", "want {type, to}")
			return
		}
		code, err := s.SendEvent(r.Context(), in.Type, in.To)
		if err != nil {
			writeError(w, http.StatusBadGateway, "webhook_error", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"status": code})
	case r.Method == http.MethodPost && r.URL.Path == "/_stub/bounce":
		var in struct {
			Address string `json:"address"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Address == "" {
			writeError(w, http.StatusBadRequest, "validation_error", "want {address}")
			return
		}
		s.Bounce(in.Address)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusNotFound, "not_found", "no such route")
	}
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	defer s.mu.Unlock()
	answer := func(status int) {
		s.requests = append(s.requests, Request{IdempotencyKey: key, Status: status, At: time.Now()})
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") || len(r.Header.Get("Authorization")) < 10 {
		answer(http.StatusUnauthorized)
		writeError(w, http.StatusUnauthorized, "missing_api_key", "missing API key")
		return
	}
	if len(s.fail) > 0 {
		f := s.fail[0]
		s.fail = s.fail[1:]
		answer(f.status)
		if f.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
			w.Header().Set("Ratelimit-Limit", "2")
			w.Header().Set("Ratelimit-Remaining", "0")
			writeError(w, f.status, "rate_limit_exceeded", "too many requests")
			return
		}
		writeError(w, f.status, "internal_server_error", "injected failure")
		return
	}
	if len(key) > 256 {
		answer(http.StatusBadRequest)
		writeError(w, http.StatusBadRequest, "invalid_idempotency_key", "key longer than 256 characters")
		return
	}
	var m Message
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil || json.Unmarshal(raw, &m) != nil || len(m.To) == 0 || m.From == "" || m.Subject == "" {
		answer(http.StatusUnprocessableEntity)
		writeError(w, http.StatusUnprocessableEntity, "validation_error", "from, to and subject are required")
		return
	}
	sum := sha256.Sum256(raw)
	if key != "" {
		if prev, ok := s.keys[key]; ok && time.Since(prev.at) < 24*time.Hour {
			if prev.sum != sum {
				answer(http.StatusConflict)
				writeError(w, http.StatusConflict, "invalid_idempotent_request", "same idempotency key, different body")
				return
			}
			answer(http.StatusOK)
			writeJSON(w, http.StatusOK, map[string]string{"id": prev.id})
			return
		}
	}
	s.n++
	m.ID = fmt.Sprintf("stub-%06d", s.n)
	m.IdempotencyKey = key
	m.At = time.Now().UTC()
	for _, to := range m.To {
		if s.bounce[strings.ToLower(to)] || strings.HasPrefix(strings.ToLower(to), "bounced@") {
			m.Bounced = true
		}
	}
	s.messages = append(s.messages, m)
	if key != "" {
		s.keys[key] = idem{sum: sum, id: m.ID, at: m.At}
	}
	answer(http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]string{"id": m.ID})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, name, msg string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "name": name, "message": msg})
}
