package dbengine

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An engine started on a fixed address with a given credential (pfinni
// db serve) answers there with that credential, and comes back on the
// same address after a crash.
func TestFixedAddressAndCredential(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	e, err := Start(context.Background(), Config{Path: "mem://", HostDir: hostDir(t), Bind: addr,
		User: "shared_root", Password: "Fixed-credential-0123456789"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Stop() })
	assert.Equal(t, "ws://"+addr, e.URL())
	user, pass := e.Credentials()
	assert.Equal(t, "shared_root", user)
	assert.Equal(t, "Fixed-credential-0123456789", pass)

	first := e.PID()
	e.Kill()
	require.Eventually(t, func() bool { return e.Ready() && e.PID() != first }, time.Minute, 50*time.Millisecond)
	assert.Equal(t, "ws://"+addr, e.URL(), "restarted on the same address")
	assert.True(t, dialable(e.URL()))
}

// Bad addresses and weak credentials are refused before anything starts.
func TestBindAndCredentialChecked(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no port", Config{Bind: "localhost"}, "address"},
		{"bad user", Config{User: "root; DROP", Password: "Long-enough-password-1"}, "user name"},
		{"short password", Config{Password: "short"}, "16 to 128"},
		{"quote in password", Config{Password: "Long-enough-password'1"}, "16 to 128"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Path, tc.cfg.HostDir = "mem://", hostDir(t)
			_, err := Start(context.Background(), tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Equal(t, "127.0.0.1", dialHost("0.0.0.0:8000"))
	assert.Equal(t, "127.0.0.1", dialHost(":8000"))
	assert.Equal(t, "10.0.0.2", dialHost("10.0.0.2:8000"))
}
