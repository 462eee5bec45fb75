package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
)

const auditUsage = `usage:
  pfinni audit verify
  pfinni audit list   [--actor ID] [--action A] [--resource R] [--record ID] [--outcome O]
                      [--from T] [--to T] [--limit N] [--cursor C]
  pfinni audit export [the same filters]   (CSV on standard output, every match)

T is RFC 3339 (2025-03-01T09:30:00Z) or a date (2025-03-01; as --to, the end of that day).
verify exits non-zero when the chain is broken.`

// runAudit reads the audit trail from the shell: `pfinni audit verify`
// walks the hash chain and reports the first broken link (and fails),
// `list` prints a page of events, newest first, and `export` writes every
// matching event as CSV. It acts as the system unless ctx carries an
// actor; each run is itself audited (audit.read).
func runAudit(ctx context.Context, log *audit.Log, args []string, out io.Writer) error {
	if actor.From(ctx).Anonymous() {
		ctx = actor.System(ctx)
	}
	if len(args) == 0 {
		return fmt.Errorf("audit: missing subcommand\n%s", auditUsage)
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "verify":
		if len(rest) > 0 {
			return fmt.Errorf("audit verify: takes no arguments")
		}
		return auditVerify(ctx, log, out)
	case "list", "export":
		f, err := auditFilterFlags(sub, rest)
		if err != nil {
			return err
		}
		if sub == "export" {
			if err := log.ExportCSV(ctx, out, f); err != nil {
				return fmt.Errorf("audit export: %w", err)
			}
			return nil
		}
		return auditList(ctx, log, f, out)
	default:
		return fmt.Errorf("audit: unknown subcommand %q\n%s", sub, auditUsage)
	}
}

// errChainBroken is returned by `audit verify` for a broken chain.
var errChainBroken = errors.New("audit chain is broken")

func auditVerify(ctx context.Context, log *audit.Log, out io.Writer) error {
	rep, err := log.Verify(ctx)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if _, err := fmt.Fprintln(out, rep.String()); err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("audit verify: %w at seq %d (%s)", errChainBroken, rep.Broken.Seq, rep.Broken.Problem)
	}
	if rep.Count > 0 {
		_, err = fmt.Fprintf(out, "head: seq %d hash %s (note it down: a later verify must still reach it)\n", rep.HeadSeq, rep.HeadHash)
	}
	return err
}

// auditFilterFlags parses the filter flags into the same parameters the
// API takes, so both refuse the same bad input with the same messages.
func auditFilterFlags(sub string, args []string) (audit.Filter, error) {
	fs := pflag.NewFlagSet("pfinni audit "+sub, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	names := []string{"actor", "action", "resource", "record", "outcome", "from", "to", "limit", "cursor"}
	vals := make(map[string]*string, len(names))
	for _, n := range names {
		vals[n] = fs.String(n, "", "")
	}
	if err := fs.Parse(args); err != nil {
		return audit.Filter{}, fmt.Errorf("audit %s: %w\n%s", sub, err, auditUsage)
	}
	if fs.NArg() > 0 {
		return audit.Filter{}, fmt.Errorf("audit %s: unexpected argument %q\n%s", sub, fs.Arg(0), auditUsage)
	}
	params := map[string]string{}
	fs.Visit(func(f *pflag.Flag) { params[f.Name] = *vals[f.Name] })
	f, err := audit.FilterFromParams(params)
	if err != nil {
		return audit.Filter{}, fmt.Errorf("audit %s: %w", sub, err)
	}
	return f, nil
}

func auditList(ctx context.Context, log *audit.Log, f audit.Filter, out io.Writer) error {
	page, err := log.List(ctx, f)
	if err != nil {
		return fmt.Errorf("audit list: %w", err)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT\tACTOR\tROLE\tACTION\tRESOURCE\tRECORD\tOUTCOME\tIP\tDETAIL")
	for _, e := range page.Items {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Format(time.RFC3339),
			dash(e.Actor), dash(e.Role), e.Action, e.Resource, dash(e.Record), e.Outcome, dash(e.IP), e.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.NextCursor != "" {
		_, err = fmt.Fprintf(out, "more: add --cursor %s\n", page.NextCursor)
	} else if len(page.Items) == 0 {
		_, err = fmt.Fprintln(out, "no events match")
	}
	return err
}

// dash shows an empty cell as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
