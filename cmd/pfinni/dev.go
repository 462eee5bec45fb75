package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/pfinni/pfinni/core/config"
	stubinsurer "github.com/pfinni/pfinni/plugins/stub-insurer"
)

// runDev runs development helpers:
//
//	pfinni dev insurer-stub [--addr 127.0.0.1:8089] [--user U --password P] [--slow 30s]
//
// insurer-stub serves the stub insurer (plugins/stub-insurer): POST an
// X12 270 to any path, get a 271 decided by the member id's prefix
// (docs/insurance.md). It is the insurance-x12 plugin's default endpoint.
func runDev(ctx context.Context, _ *config.Config, args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "email-stub" {
		return runEmailStub(ctx, args[1:], out) // email.go
	}
	if len(args) == 0 || args[0] != "insurer-stub" {
		return fmt.Errorf("usage: pfinni dev insurer-stub [--addr HOST:PORT] [--user U --password P] [--slow DURATION] | email-stub [--addr HOST:PORT]")
	}
	fs := flag.NewFlagSet("pfinni dev insurer-stub", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:8089", "address to listen on (the manifest's default endpoint is http://127.0.0.1:8089/x12)")
	user := fs.String("user", "", "require this HTTP basic user")
	pass := fs.String("password", "", "require this HTTP basic password")
	slow := fs.Duration("slow", 30*time.Second, "how long SLOW… member ids wait before answering")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("stub insurer: %w", err)
	}
	fmt.Fprintf(out, "stub insurer listening on http://%s/x12 (member ids: ACT active, INA inactive, NF not found, BUSY busy once, SLOW slow, BAD garbled)\n", ln.Addr())
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return stubinsurer.Serve(ctx, ln, stubinsurer.Options{Username: *user, Password: *pass, SlowDelay: *slow, Logger: log})
}
