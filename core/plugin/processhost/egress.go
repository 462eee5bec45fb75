package processhost

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/sdk/process"
)

// Egress is one process plugin's way out: a forward HTTP proxy on
// loopback that admits only the hosts on the plugin's allow-list (the
// manifest's network.allowedHosts plus the operator's additions). Plain
// http requests arrive in absolute form and are forwarded; https arrives
// as CONNECT and is tunnelled (the proxy never sees inside the TLS).
// Every other host is refused with 403 and no connection is made. The
// proxy asks for a per-start random credential, so other local processes
// cannot use it as a relay.
//
// The plugin gets the proxy's URL in its environment (sdk/process's
// EgressProxyEnv, and HTTP_PROXY/HTTPS_PROXY for libraries that honour
// them); sdk/process.HTTPClient sends every request through it. This
// enforces what the manifest declares for a plugin that uses the host's
// client; it is not a sandbox: a process plugin is fully trusted code and
// could open sockets itself (docs/plugins.md).
type Egress struct {
	plugin string
	rules  []hostRule
	logger *slog.Logger
	ln     net.Listener
	srv    *http.Server
	url    string
	auth   string // expected Proxy-Authorization header value
	out    *http.Transport
	dialer net.Dialer

	mu      sync.Mutex
	tunnels map[net.Conn]struct{}
	refused map[string]bool // hosts already logged
	closed  bool
}

// Header values the proxy answers with.
const (
	egressUser      = "pfinni"
	maxRefusalsSeen = 64 // distinct refused hosts logged per plugin
)

// hostRule is one allow-list entry: "host" (ports 80 and 443),
// "host:port", or "*.domain" (any subdomain, ports 80 and 443).
type hostRule struct {
	host     string // lower case; "*.x" for a wildcard
	port     string // "" = 80 or 443
	wildcard bool
}

func parseRules(hosts []string) ([]hostRule, error) {
	rules := make([]hostRule, 0, len(hosts))
	for _, h := range hosts {
		r := hostRule{host: strings.ToLower(h)}
		if name, port, err := net.SplitHostPort(h); err == nil {
			r.host, r.port = strings.ToLower(name), port
		}
		if strings.Contains(r.host, "*") {
			if !strings.HasPrefix(r.host, "*.") || strings.Count(r.host, "*") != 1 || len(r.host) < 4 {
				return nil, fmt.Errorf("allowed host %q: a wildcard must be a leading *. label", h)
			}
			r.wildcard = true
		}
		if r.host == "" {
			return nil, fmt.Errorf("allowed host %q is empty", h)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// allows reports whether hostport (host:port) is on the allow-list.
func (e *Egress) allows(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" || port == "" {
		return false
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, r := range e.rules {
		switch {
		case r.port != "" && r.port != port:
			continue
		case r.port == "" && port != "80" && port != "443":
			continue
		}
		if r.wildcard {
			if suffix := r.host[1:]; strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
				return true
			}
			continue
		}
		if host == r.host {
			return true
		}
	}
	return false
}

// StartEgress starts plugin's proxy on 127.0.0.1 admitting allowed. An
// empty list refuses everything.
func StartEgress(plugin string, allowed []string, logger *slog.Logger) (*Egress, error) {
	rules, err := parseRules(allowed)
	if err != nil {
		return nil, fmt.Errorf("egress proxy for %q: %w", plugin, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("egress proxy for %q: %w", plugin, err)
	}
	token := hex.EncodeToString(secret)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("egress proxy for %q: %w", plugin, err)
	}
	e := &Egress{
		plugin: plugin, rules: rules, logger: logger, ln: ln,
		url:     (&url.URL{Scheme: "http", User: url.UserPassword(egressUser, token), Host: ln.Addr().String()}).String(),
		auth:    "Basic " + base64.StdEncoding.EncodeToString([]byte(egressUser+":"+token)),
		dialer:  net.Dialer{Timeout: 10 * time.Second},
		tunnels: map[net.Conn]struct{}{},
		refused: map[string]bool{},
	}
	e.out = &http.Transport{Proxy: nil, DialContext: e.dial, ForceAttemptHTTP2: false,
		MaxIdleConns: 8, IdleConnTimeout: 30 * time.Second, TLSHandshakeTimeout: 10 * time.Second}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// URL is the proxy's address with its credential, for the plugin's
// environment.
func (e *Egress) URL() string { return e.url }

// Env is the environment that points a plugin at the proxy.
func (e *Egress) Env() []string {
	return []string{
		process.EgressProxyEnv + "=" + e.url,
		"HTTP_PROXY=" + e.url, "HTTPS_PROXY=" + e.url,
		"http_proxy=" + e.url, "https_proxy=" + e.url,
	}
}

// Close stops the proxy and cuts every open tunnel.
func (e *Egress) Close() error {
	e.mu.Lock()
	e.closed = true
	tunnels := e.tunnels
	e.tunnels = map[net.Conn]struct{}{}
	e.mu.Unlock()
	for c := range tunnels {
		_ = c.Close()
	}
	e.out.CloseIdleConnections()
	err := e.srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// dial connects to an allowed target (checked again here, so that no
// redirect or reused request can reach another host).
func (e *Egress) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if !e.allows(addr) {
		return nil, fmt.Errorf("egress to %s is not allowed", addr)
	}
	return e.dialer.DialContext(ctx, network, addr)
}

func (e *Egress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	got := r.Header.Get("Proxy-Authorization")
	if subtle.ConstantTimeCompare([]byte(got), []byte(e.auth)) != 1 {
		w.Header().Set("Proxy-Authenticate", `Basic realm="pfinni egress"`)
		http.Error(w, "pfinni egress proxy: credential required", http.StatusProxyAuthRequired)
		return
	}
	if r.Method == http.MethodConnect {
		e.connect(w, r)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "pfinni egress proxy: send absolute http:// URLs, or CONNECT for https", http.StatusBadRequest)
		return
	}
	target := r.URL.Host
	if r.URL.Port() == "" {
		target = net.JoinHostPort(r.URL.Hostname(), "80")
	}
	if !e.admit(w, target) {
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	res, err := e.out.RoundTrip(out)
	if err != nil {
		http.Error(w, "pfinni egress proxy: upstream did not answer", http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	for _, h := range hopHeaders {
		res.Header.Del(h)
	}
	for k, vs := range res.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(res.StatusCode)
	_, _ = io.Copy(w, res.Body)
}

// hopHeaders are connection-scoped and never forwarded.
var hopHeaders = []string{"Proxy-Authorization", "Proxy-Authenticate", "Proxy-Connection", "Connection",
	"Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// admit refuses a target that is not on the allow-list, logging each
// refused host once (a host name is not patient data).
func (e *Egress) admit(w http.ResponseWriter, target string) bool {
	if e.allows(target) {
		return true
	}
	e.mu.Lock()
	first := !e.refused[target] && len(e.refused) < maxRefusalsSeen
	if first {
		e.refused[target] = true
	}
	e.mu.Unlock()
	if first {
		e.logger.Warn("process plugin egress refused: host not in network.allowedHosts", "plugin", e.plugin, "host", target)
	}
	http.Error(w, fmt.Sprintf("pfinni egress proxy: %s is not in this plugin's network.allowedHosts", target), http.StatusForbidden)
	return false
}

func (e *Egress) connect(w http.ResponseWriter, r *http.Request) {
	if !e.admit(w, r.Host) {
		return
	}
	up, err := e.dial(r.Context(), "tcp", r.Host)
	if err != nil {
		http.Error(w, "pfinni egress proxy: upstream did not answer", http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = up.Close()
		http.Error(w, "pfinni egress proxy: cannot tunnel", http.StatusInternalServerError)
		return
	}
	down, buf, err := hj.Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	if !e.track(down, up) {
		_ = down.Close()
		_ = up.Close()
		return
	}
	defer e.untrack(down, up)
	if _, err := io.WriteString(down, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, buf); closeWrite(up); done <- struct{}{} }()
	go func() { _, _ = io.Copy(down, up); closeWrite(down); done <- struct{}{} }()
	<-done
	<-done
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
}

func (e *Egress) track(cs ...net.Conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	for _, c := range cs {
		e.tunnels[c] = struct{}{}
	}
	return true
}

func (e *Egress) untrack(cs ...net.Conn) {
	e.mu.Lock()
	for _, c := range cs {
		delete(e.tunnels, c)
	}
	e.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
	}
}
