package processhost

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/sdk"
)

// server counts the requests that reached it.
type server struct {
	*httptest.Server
	hits atomic.Int32
}

func newServer(t *testing.T, tlsOn bool, body string) *server {
	s := &server{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		_, _ = io.WriteString(w, body)
	})
	if tlsOn {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func hostOf(s *server) string { u, _ := url.Parse(s.URL); return u.Host }

// client goes through proxy (with its credential unless bare).
func client(proxy string, roots *http.Client) *http.Client {
	u, _ := url.Parse(proxy)
	tr := &http.Transport{Proxy: http.ProxyURL(u)}
	if roots != nil {
		tr.TLSClientConfig = roots.Transport.(*http.Transport).TLSClientConfig.Clone()
	}
	return &http.Client{Transport: tr}
}

// The proxy admits only the allow-list, for http and for https (CONNECT),
// and only with its credential; a refused host is never contacted.
func TestEgressProxyAdmitsOnlyAllowedHosts(t *testing.T) {
	allowed := newServer(t, false, "allowed")
	other := newServer(t, false, "other")
	secure := newServer(t, true, "secure")
	otherSecure := newServer(t, true, "other secure")
	logs := &lines{}
	eg, err := StartEgress("p", []string{hostOf(allowed), hostOf(secure)}, slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = eg.Close() })

	get := func(c *http.Client, u string) (int, string, error) {
		res, err := c.Get(u)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), nil
	}
	code, body, err := get(client(eg.URL(), nil), allowed.URL+"/x")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "allowed", body)

	code, body, err = get(client(eg.URL(), nil), other.URL+"/x")
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, body, "not in this plugin's network.allowedHosts")
	assert.Zero(t, other.hits.Load())

	code, body, err = get(client(eg.URL(), secure.Client()), secure.URL+"/x")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "secure", body)

	_, _, err = get(client(eg.URL(), otherSecure.Client()), otherSecure.URL+"/x")
	assert.ErrorContains(t, err, "Forbidden")
	assert.Zero(t, otherSecure.hits.Load())

	// Without the credential the proxy is no relay.
	bare := strings.Replace(eg.URL(), eg.URL()[len("http://"):strings.Index(eg.URL(), "@")+1], "", 1)
	code, _, err = get(client(bare, nil), allowed.URL+"/x")
	require.NoError(t, err)
	assert.Equal(t, http.StatusProxyAuthRequired, code)

	// Not a proxy request.
	res, err := http.Post("http://"+eg.ln.Addr().String()+"/", "text/plain", nil)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusProxyAuthRequired, res.StatusCode)

	// Each refused host is logged once, by name.
	_, _, _ = get(client(eg.URL(), nil), other.URL+"/again")
	assert.Equal(t, 2, strings.Count(logs.String(), "egress refused"), logs.String())
	assert.Equal(t, int32(1), allowed.hits.Load())
}

func TestEgressRules(t *testing.T) {
	eg := &Egress{}
	var err error
	eg.rules, err = parseRules([]string{"api.example.com", "LLM.internal:8443", "*.openai.azure.com", "127.0.0.1:11434"})
	require.NoError(t, err)
	for target, want := range map[string]bool{
		"api.example.com:443":      true,
		"API.example.com.:80":      true,
		"api.example.com:8080":     false,
		"evil.api.example.com:443": false,
		"llm.internal:8443":        true,
		"llm.internal:443":         false,
		"x.openai.azure.com:443":   true,
		"openai.azure.com:443":     false,
		"127.0.0.1:11434":          true,
		"127.0.0.1:8080":           false,
		"localhost:11434":          false,
		"nonsense":                 false,
		":443":                     false,
	} {
		assert.Equal(t, want, eg.allows(target), target)
	}
	for _, bad := range []string{"a*.example.com", "*", "*.*.x"} {
		_, err := parseRules([]string{bad})
		assert.Error(t, err, bad)
	}
	_, err = StartEgress("p", []string{"x*"}, nil)
	assert.ErrorContains(t, err, `egress proxy for "p"`)
}

// A real process plugin (the LLM adapter) reaches an allowed host
// through the host's egress proxy and is refused for any other
// (security review M5: network.allowedHosts was never enforced).
func TestProcessPluginEgressIsEnforced(t *testing.T) {
	path, err := plugintest.BuildProcess("plugins/llm-openai")
	require.NoError(t, err)
	sum, err := manifest.FileSHA256(path)
	require.NoError(t, err)
	answer := `{"choices":[{"message":{"content":"Use the Patients page."}}]}`
	allowed := newServer(t, false, answer)
	other := newServer(t, false, answer)

	ask := func(p *Plugin) (sdk.IntentReply, error) {
		in, _ := json.Marshal(sdk.IntentRequest{Message: "how do I add a patient?"})
		out, err := p.Call(context.Background(), sdk.HookIntentHandle, in)
		var r sdk.IntentReply
		if err == nil {
			require.NoError(t, json.Unmarshal(out, &r))
		}
		return r, err
	}
	cfg := func(target *server) Config {
		init, _ := json.Marshal(map[string]string{"url": target.URL + "/v1", "model": "m"})
		return Config{Name: "llm-openai", Path: path, SHA256: sum, InitConfig: init, AllowedHosts: []string{hostOf(allowed)}}
	}

	p := start(t, cfg(allowed))
	r, err := ask(p)
	require.NoError(t, err)
	assert.Equal(t, "Use the Patients page.", r.Reply)
	assert.Equal(t, int32(1), allowed.hits.Load())

	q := start(t, cfg(other))
	_, err = ask(q)
	var se *sdk.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sdk.CodeUnavailable, se.Code)
	assert.Contains(t, se.Message, "403")
	assert.Zero(t, other.hits.Load(), "the refused host was never contacted")
}

// The plugin's stdout and stderr are logged only with the log
// capability (security review M6), redacted.
func TestProcessOutputNeedsLogCapability(t *testing.T) {
	for _, granted := range []bool{false, true} {
		logs := &lines{}
		logger := slog.New(slog.NewTextHandler(logs, nil))
		cfg := Config{Name: "stub-insurance", Path: insurancePath, SHA256: insuranceSum, Logger: logger,
			Host: hostcall.New(hostcall.Services{Logger: logger})}
		if granted {
			cfg.Capabilities = []string{sdk.CapLog}
		}
		p := start(t, cfg)
		in, _ := json.Marshal(sdk.EligibilityRequest{Payer: "STUB", MemberID: "PRINT", FirstName: "Ada", LastName: "Lovelace", DateOfBirth: "1970-01-02"})
		_, err := p.Call(context.Background(), sdk.HookEligibility, in)
		require.NoError(t, err)
		// Both lines reach the host (they arrive asynchronously).
		require.Eventually(t, func() bool {
			p.output.mu.Lock()
			defer p.output.mu.Unlock()
			return strings.Count(string(p.output.tail), "member of Ada Lovelace") == 2
		}, 10*time.Second, 10*time.Millisecond)
		if granted {
			assert.Equal(t, 2, strings.Count(logs.String(), "member of Ada Lovelace"))
			assert.Contains(t, logs.String(), "source=process")
		} else {
			assert.NotContains(t, logs.String(), "Lovelace")
		}
		assert.NotContains(t, logs.String(), "configuring server automatic mTLS", "go-plugin's debug chatter is not the plugin's output")
	}
}

func TestOutputTailExplainsACrash(t *testing.T) {
	o := &output{d: hostcall.New(hostcall.Services{})}
	_, _ = io.WriteString(o, "starting\npanic: lost patient 1970-01-02\n")
	_, _ = io.WriteString(o, strings.Repeat("x", 3*tailSize)+"\n")
	assert.Equal(t, "", o.hint(), "the crash line left the bounded tail")
	_, _ = io.WriteString(o, "fatal error: out of memory on 1970-01-02\ngoroutine 1 [running]:\n")
	assert.Equal(t, ": fatal error: out of memory on [date]", o.hint())
	assert.LessOrEqual(t, len(o.tail), tailSize)
}

// lines is a concurrency-safe log sink.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// An allowed host that does not answer is a 502, not a hang; a request
// that is not in proxy form is refused; Close cuts open tunnels.
func TestEgressProxyEdges(t *testing.T) {
	down := newServer(t, false, "")
	downHost := hostOf(down)
	down.Close()
	secure := newServer(t, true, "secure")
	eg, err := StartEgress("p", []string{downHost, hostOf(secure)}, nil)
	require.NoError(t, err)

	res, err := client(eg.URL(), nil).Get("http://" + downHost + "/")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadGateway, res.StatusCode)

	_, err = client(eg.URL(), secure.Client()).Get("https://" + downHost + "/")
	assert.ErrorContains(t, err, "Bad Gateway")

	req, _ := http.NewRequest(http.MethodGet, "http://"+eg.ln.Addr().String()+"/relative", nil)
	req.Header.Set("Proxy-Authorization", eg.auth)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)

	// A tunnel left open (keep-alive) is cut by Close.
	c := client(eg.URL(), secure.Client())
	res, err = c.Get(secure.URL)
	require.NoError(t, err)
	_, _ = io.ReadAll(res.Body)
	res.Body.Close()
	require.Eventually(t, func() bool { eg.mu.Lock(); defer eg.mu.Unlock(); return len(eg.tunnels) == 2 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, eg.Close())
	eg.mu.Lock()
	assert.Empty(t, eg.tunnels)
	eg.mu.Unlock()
	assert.False(t, eg.track(nil), "no new tunnel after Close")
	assert.True(t, chatter(`{"@level":"debug","@message":"plugin address"}`))
	assert.False(t, chatter(`{"@level":"error","@message":"boom"}`))
	assert.False(t, chatter("plain line"))
}
