package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"time"
)

// Client calls a pfinni server's JSON API with a bearer token.
type Client struct {
	Base  string // e.g. http://127.0.0.1:8080 (with the base path, if any)
	Token string
	HTTP  *http.Client
}

// NewClient returns a client with a connection pool sized for workers.
func NewClient(base string, workers int) *Client {
	tr := &http.Transport{MaxIdleConns: workers * 2, MaxIdleConnsPerHost: workers * 2, IdleConnTimeout: time.Minute}
	return &Client{Base: base, HTTP: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// Do sends a JSON request and decodes a JSON answer into out (may be nil).
// A status of 400 or more is an error carrying the problem's detail.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, out)
}

func (c *Client) send(req *http.Request, out any) error {
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode >= 400 {
		var p struct {
			Detail  string `json:"detail"`
			Message string `json:"message"` // the peer's (PocketBase) error shape
		}
		_ = json.Unmarshal(b, &p)
		msg := p.Detail
		if msg == "" {
			msg = string(b[:min(len(b), 300)])
		}
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, msg)
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Login signs in and keeps the bearer token.
func (c *Client) Login(ctx context.Context, email, password string) error {
	var out struct {
		Token string `json:"token"`
	}
	if err := c.Do(ctx, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, &out); err != nil {
		return err
	}
	c.Token = out.Token
	return nil
}

// Upload posts files as multipart parts named `files`.
func (c *Client) Upload(ctx context.Context, path string, files map[string][]byte, out any) error {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for name, data := range files {
		part, err := w.CreateFormFile("files", name)
		if err != nil {
			return err
		}
		if _, err := part.Write(data); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.Base+path, &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.send(req, out)
}
