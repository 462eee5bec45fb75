package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/pfinni/pfinni/core/fault"
)

// Resolver looks host names up (net.DefaultResolver; tests may pass a
// stub to play DNS rebinding).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// blockedPrefixes are refused besides what netip classifies as
// loopback, private, link-local, multicast or unspecified.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),         // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),     // CGNAT
	netip.MustParsePrefix("192.0.0.0/24"),      // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),     // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),       // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),      // NAT64 (embeds an IPv4 address)
	netip.MustParsePrefix("64:ff9b:1::/48"),    // local-use NAT64
	netip.MustParsePrefix("2002::/16"),         // 6to4 (embeds an IPv4 address)
	netip.MustParsePrefix("fd00:ec2::254/128"), // AWS metadata over IPv6 (also ULA)
}

// Blocked reports whether a is an address webhooks never reach unless
// webhook_allow_private is on: loopback, private (RFC 1918, ULA),
// link-local (169.254/16 with the cloud metadata address, fe80::/10),
// CGNAT, multicast, unspecified and reserved ranges, also as
// IPv4-mapped IPv6.
func Blocked(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsGlobalUnicast() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// guard checks webhook URLs and the addresses they are dialled at.
type guard struct {
	allowPrivate bool
	resolver     Resolver
}

// checkURL parses raw and refuses what a webhook may not be: another
// scheme than http(s), credentials in the URL, or (unless private
// addresses are allowed) a host resolving to any blocked address.
func (g guard) checkURL(ctx context.Context, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fault.Field("url", "want an absolute http:// or https:// URL")
	}
	if u.User != nil {
		return nil, fault.Field("url", "must not carry credentials")
	}
	if len(raw) > 2048 {
		return nil, fault.Field("url", "must be at most 2048 characters")
	}
	if g.allowPrivate {
		return u, nil
	}
	addrs, err := g.resolve(ctx, u.Hostname())
	if err != nil {
		return nil, errors.Join(fault.Field("url", "the host name does not resolve"), err)
	}
	for _, a := range addrs {
		if Blocked(a) {
			return nil, errors.Join(fault.Field("url", "resolves to a loopback, private, link-local or metadata address"), ErrBlockedAddress)
		}
	}
	return u, nil
}

func (g guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := g.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve webhook host: %w", err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve webhook host: no address")
	}
	return addrs, nil
}

// control runs on every connection before it is made, with the address
// actually dialled: the last word against DNS rebinding.
func (g guard) control(_, address string, _ syscall.RawConn) error {
	if g.allowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial webhook %q: %w", address, ErrBlockedAddress)
	}
	if Blocked(ap.Addr()) {
		return fmt.Errorf("dial webhook: %w", ErrBlockedAddress)
	}
	return nil
}

// client is the HTTP client of deliveries: no proxy from the
// environment, no redirects followed (a 3xx is a failed attempt), every
// dial checked by control.
func (g guard) client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: g.control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
