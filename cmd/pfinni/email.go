package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/email/emailstub"
)

const emailUsage = `usage:
  pfinni email suppressions                    list addresses that are not sent to
  pfinni email suppress ADDRESS [--reason R]   stop sending to ADDRESS (bounced, complained or manual)
  pfinni email unsuppress ADDRESS              send to ADDRESS again`

// runEmail manages the e-mail suppression list as the system (audited).
func runEmail(ctx context.Context, svc *email.Service, args []string, out io.Writer) error {
	if actor.From(ctx).Anonymous() {
		ctx = actor.System(ctx)
	}
	if len(args) == 0 {
		return fmt.Errorf("email: missing subcommand\n%s", emailUsage)
	}
	switch args[0] {
	case "suppressions":
		list, err := svc.Suppressions(ctx)
		if err != nil {
			return fmt.Errorf("email suppressions: %w", err)
		}
		for _, s := range list {
			fmt.Fprintf(out, "%s\t%s\t%s\n", s.Address, s.Reason, s.CreatedAt.UTC().Format(time.RFC3339))
		}
		_, err = fmt.Fprintf(out, "%d suppressed\n", len(list))
		return err
	case "suppress":
		fs := flag.NewFlagSet("pfinni email suppress", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		reason := fs.String("reason", "bounced", "bounced, complained or manual")
		if len(args) < 2 {
			return fmt.Errorf("email suppress: want ADDRESS\n%s", emailUsage)
		}
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() > 0 {
			return fmt.Errorf("email suppress: want ADDRESS [--reason R]\n%s", emailUsage)
		}
		if err := svc.Suppress(ctx, args[1], *reason); err != nil {
			return fmt.Errorf("email suppress: %w", err)
		}
		_, err := fmt.Fprintln(out, "suppressed: nothing more is sent to this address")
		return err
	case "unsuppress":
		if len(args) != 2 {
			return fmt.Errorf("email unsuppress: want ADDRESS\n%s", emailUsage)
		}
		if err := svc.Unsuppress(ctx, args[1]); err != nil {
			return fmt.Errorf("email unsuppress: %w", err)
		}
		_, err := fmt.Fprintln(out, "removed from the suppression list")
		return err
	}
	return fmt.Errorf("email: unknown subcommand %q\n%s", args[0], emailUsage)
}

// runEmailStub serves the Resend stub (core/email/emailstub):
//
//	pfinni dev email-stub [--addr 127.0.0.1:8091] [--webhook-url URL --webhook-secret whsec_…]
//
// Point pfinni at it with PFINNI_RESEND_BASE_URL=http://127.0.0.1:8091/
// and any PFINNI_RESEND_API_KEY. GET /_stub/messages lists what it
// received; POST /_stub/fail {"status":429,"count":1,"retry_after":5}
// and POST /_stub/bounce {"address":"…"} inject failures and bounces;
// with --webhook-url (pfinni's /api/v1/email/events) and
// --webhook-secret (its resend_webhook_secret), POST /_stub/events
// {"type":"email.bounced","to":"…"} sends a signed event like Resend's.
func runEmailStub(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pfinni dev email-stub", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:8091", "address to listen on")
	hookURL := fs.String("webhook-url", "", "where POST /_stub/events sends signed events (pfinni's /api/v1/email/events)")
	hookSecret := fs.String("webhook-secret", "", "the secret that signs them (pfinni's resend_webhook_secret, whsec_…)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stub := emailstub.New()
	if *hookURL != "" {
		stub.SetWebhook(*hookURL, *hookSecret)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("e-mail stub: %w", err)
	}
	fmt.Fprintf(out, "e-mail stub (Resend API) listening on http://%s/ — set PFINNI_RESEND_BASE_URL=http://%s/ and any PFINNI_RESEND_API_KEY; messages at GET /_stub/messages\n", ln.Addr(), ln.Addr())
	srv := &http.Server{Handler: stub, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("e-mail stub: %w", err)
	}
	return nil
}
