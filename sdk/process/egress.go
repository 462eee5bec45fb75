package process

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"
)

// EgressProxyEnv names the environment variable in which the host passes
// a process plugin the URL of its egress proxy. The proxy admits only the
// hosts the plugin's manifest entry allows (network.allowedHosts, plus
// what the operator adds) and refuses every other with 403.
const EgressProxyEnv = "PFINNI_EGRESS_PROXY"

// ErrNoEgress means the host gave this plugin no egress proxy (it was not
// started by a pfinni host, or the host is too old): HTTPClient's
// requests then fail rather than go out unchecked.
var ErrNoEgress = errors.New("no egress proxy from the host (" + EgressProxyEnv + " is not set)")

// HTTPClient returns an http.Client for a process plugin's outbound
// requests: every request, https included (as a CONNECT tunnel) and
// loopback included, goes through the host's egress proxy, so it reaches
// only the hosts the manifest allows. timeout bounds each request (0
// means none; prefer the context's deadline).
//
// Without the proxy (EgressProxyEnv unset or not a URL) every request
// fails with ErrNoEgress.
func HTTPClient(timeout time.Duration) *http.Client {
	proxy, err := egressURL()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = func(*http.Request) (*url.URL, error) { return proxy, err }
	return &http.Client{Transport: t, Timeout: timeout}
}

func egressURL() (*url.URL, error) {
	raw := os.Getenv(EgressProxyEnv)
	if raw == "" {
		return nil, ErrNoEgress
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("%w: %s is not an http:// URL", ErrNoEgress, EgressProxyEnv)
	}
	return u, nil
}
