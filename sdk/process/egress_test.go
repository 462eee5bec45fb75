package process

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every request, loopback included, goes to the host's proxy, with the
// proxy's credential.
func TestHTTPClientGoesThroughTheProxy(t *testing.T) {
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.String()+" "+r.Header.Get("Proxy-Authorization"))
		_, _ = io.WriteString(w, "via proxy")
	}))
	defer proxy.Close()
	t.Setenv(EgressProxyEnv, "http://pfinni:s3cret@"+strings.TrimPrefix(proxy.URL, "http://"))

	res, err := HTTPClient(0).Get("http://127.0.0.1:1/v1/models")
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	assert.Equal(t, "via proxy", string(b))
	require.Len(t, seen, 1)
	assert.Equal(t, "http://127.0.0.1:1/v1/models Basic cGZpbm5pOnMzY3JldA==", seen[0])
}

// Without a proxy from the host, requests fail instead of going out
// unchecked.
func TestHTTPClientWithoutProxyFailsClosed(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the request went out without the proxy")
	}))
	defer target.Close()
	for name, env := range map[string]string{"unset": "", "not a URL": "::", "not http": "socks5://127.0.0.1:1"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(EgressProxyEnv, env)
			_, err := HTTPClient(0).Get(target.URL)
			assert.ErrorIs(t, err, ErrNoEgress)
		})
	}
}
