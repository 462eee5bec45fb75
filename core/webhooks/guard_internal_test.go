package webhooks

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The dial-time check: even a request that skipped the URL check (a
// host name that resolved to a public address a moment before) cannot
// connect to a blocked address, because the address actually dialled is
// checked; with the setting on it can.
func TestDialTimeCheckRefusesBlockedAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()

	strict := guard{resolver: net.DefaultResolver}.client(2 * time.Second)
	_, err := strict.Get(srv.URL)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrBlockedAddress)
	assert.Equal(t, "blocked address", errorClass(err))

	open := guard{allowPrivate: true, resolver: net.DefaultResolver}.client(2 * time.Second)
	res, err := open.Get(srv.URL)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 204, res.StatusCode)
}

func TestBlockedAddresses(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1",
		"0.0.0.0", "0.1.2.3", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "198.18.0.1", "192.0.0.8"} {
		assert.True(t, Blocked(netip.MustParseAddr(a)), a)
	}
	for _, a := range []string{"93.184.215.14", "8.8.8.8", "2606:4700::1111", "1.1.1.1"} {
		assert.False(t, Blocked(netip.MustParseAddr(a)), a)
	}
}

func TestDelayFollowsTheSchedule(t *testing.T) {
	s := &Service{opt: Options{Schedule: []time.Duration{time.Second, time.Minute}}}
	assert.Equal(t, time.Second, s.delay(1, 500, 0))
	assert.Equal(t, time.Minute, s.delay(2, 500, 0))
	assert.Equal(t, time.Minute, s.delay(5, 0, 0), "a replay past the schedule waits the last delay")
	assert.Zero(t, (&Service{}).delay(1, 0, 0))
	assert.Equal(t, time.Second, s.delay(1, 500, 30*time.Second), "Retry-After counts on 429 and 503 only")
	assert.Equal(t, 30*time.Second, s.delay(1, 429, 30*time.Second))
	assert.Equal(t, 30*time.Second, s.delay(1, 503, 30*time.Second))
	assert.Equal(t, time.Minute, s.delay(1, 503, time.Hour), "bounded by the schedule's longest delay")
	assert.Equal(t, time.Second, s.delay(1, 429, time.Millisecond), "never shorter than the schedule")
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, 7*time.Second, retryAfter("7", now))
	assert.Equal(t, 90*time.Second, retryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	assert.Zero(t, retryAfter("soon", now))
	assert.Zero(t, retryAfter("", now))
	assert.Equal(t, "timeout", errorClass(context.DeadlineExceeded))
	assert.Equal(t, "connection error", errorClass(net.UnknownNetworkError("x")))
}
