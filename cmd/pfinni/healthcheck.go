package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/pfinni/pfinni/core/config"
)

// errNotReady is returned by healthcheck when the server answers but is
// not ready (any status other than 200).
var errNotReady = errors.New("not ready")

// runHealthcheck asks the server this configuration describes for
// /readyz and fails unless it answers 200. It is the container image's
// HEALTHCHECK: the distroless image has no shell and no curl.
// --timeout D bounds the request (default 3s).
func runHealthcheck(ctx context.Context, cfg *config.Config, args []string, out io.Writer) error {
	timeout := 3 * time.Second
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--timeout" && i+1 < len(args):
			d, err := time.ParseDuration(args[i+1])
			if err != nil {
				return fmt.Errorf("healthcheck --timeout: %w", err)
			}
			timeout = d
			i++
		default:
			return fmt.Errorf("healthcheck: unknown argument %q", a)
		}
	}
	url := readyzURL(cfg.HTTPAddr, cfg.BasePath)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: build request: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: get %s: %w", url, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d: %w", url, res.StatusCode, errNotReady)
	}
	_, err = fmt.Fprintln(out, "ready")
	return err
}

// readyzURL is the loopback URL of /readyz for a listen address: a
// wildcard host (0.0.0.0, ::, empty) is asked on loopback.
func readyzURL(addr, basePath string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = "127.0.0.1", "8080"
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + basePath + "/readyz"
}
