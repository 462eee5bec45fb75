package main

import (
	"context"
	"encoding/json"
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
  pfinni audit verify [--head HASH@SEQ]   check the chain (and that it still reaches an anchored head)
  pfinni audit head                      print the newest event as {seq, hash, key_id, at}, to anchor elsewhere
  pfinni audit rotate-key                add a new HMAC key to the audit key file (active at the next start)
  pfinni audit list   [--actor ID] [--action A] [--resource R] [--record ID] [--outcome O]
                      [--from T] [--to T] [--limit N] [--cursor C]
  pfinni audit export [the same filters]   (CSV on standard output, every match)

T is RFC 3339 (2025-03-01T09:30:00Z) or a date (2025-03-01; as --to, the end of that day).
verify exits non-zero when the chain is broken, or shorter than (or different at) the anchored
head: the one given with --head, else the one pfinni keeps in audit_head_file.`

// runAudit reads the audit trail from the shell: `pfinni audit verify`
// walks the hash chain and reports the first broken link (and fails),
// `head` prints the chain's head to be anchored elsewhere, `rotate-key`
// adds a key to keyFile, `list` prints a page of events, newest first,
// and `export` writes every matching event as CSV. It acts as the system
// unless ctx carries an actor; each read is itself audited (audit.read).
func runAudit(ctx context.Context, log *audit.Log, keyFile string, args []string, out io.Writer) error {
	if actor.From(ctx).Anonymous() {
		ctx = actor.System(ctx)
	}
	if len(args) == 0 {
		return fmt.Errorf("audit: missing subcommand\n%s", auditUsage)
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "verify":
		fs := pflag.NewFlagSet("pfinni audit verify", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		head := fs.String("head", "", "")
		if err := fs.Parse(rest); err != nil || fs.NArg() > 0 {
			return fmt.Errorf("audit verify: takes only --head HASH@SEQ\n%s", auditUsage)
		}
		var anchor *audit.Anchor
		if *head != "" {
			a, err := audit.ParseAnchor(*head)
			if err != nil {
				return fmt.Errorf("audit verify --head: %w", err)
			}
			anchor = &a
		}
		return auditVerify(ctx, log, anchor, out)
	case "head":
		if len(rest) > 0 {
			return fmt.Errorf("audit head: takes no arguments")
		}
		a, err := log.Head(ctx)
		if err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		enc := json.NewEncoder(out)
		return enc.Encode(a)
	case "rotate-key":
		if len(rest) > 0 {
			return fmt.Errorf("audit rotate-key: takes no arguments")
		}
		id, err := audit.RotateKeyFile(keyFile, time.Now())
		if err != nil {
			return fmt.Errorf("audit rotate-key: %w", err)
		}
		_, err = fmt.Fprintf(out, "added audit key %s to %s; it signs new events after the next start (copy the file to every instance first; keep the old lines)\n", id, keyFile)
		return err
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

func auditVerify(ctx context.Context, log *audit.Log, anchor *audit.Anchor, out io.Writer) error {
	var rep audit.Report
	var err error
	if anchor != nil {
		rep, err = log.VerifyAnchor(ctx, *anchor)
	} else {
		rep, err = log.Verify(ctx)
	}
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if _, err := fmt.Fprintln(out, rep.String()); err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("audit verify: %w at seq %d (%s)", errChainBroken, rep.Broken.Seq, rep.Broken.Problem)
	}
	if rep.Anchor != nil {
		if _, err := fmt.Fprintf(out, "reaches the anchored head %s\n", rep.Anchor); err != nil {
			return err
		}
	}
	if rep.Count > 0 {
		_, err = fmt.Fprintf(out, "head: seq %d hash %s key %s (note it down: a later verify --head %s@%d must still reach it)\n",
			rep.HeadSeq, rep.HeadHash, dash(rep.HeadKeyID), rep.HeadHash, rep.HeadSeq)
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
