package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
)

const jobsUsage = `usage:
  pfinni jobs list [--state queued|running|succeeded|failed|dead] [--kind K] [--limit N]
  pfinni jobs retry ID        queue a dead job again (audited)
  pfinni jobs probe [--count N]  enqueue N self-test jobs (jobs.probe) that a serving instance runs`

// runJobs lists the background jobs and retries dead ones from the
// shell, acting as the system unless ctx carries an actor.
func runJobs(ctx context.Context, adm *jobs.Admin, db *store.DB, args []string, out io.Writer) error {
	if actor.From(ctx).Anonymous() {
		ctx = actor.System(ctx)
	}
	if len(args) == 0 {
		return fmt.Errorf("jobs: missing subcommand\n%s", jobsUsage)
	}
	switch args[0] {
	case "list":
		return jobsList(ctx, adm, args[1:], out)
	case "retry":
		if len(args) != 2 {
			return fmt.Errorf("jobs retry: want ID\n%s", jobsUsage)
		}
		j, err := adm.Retry(ctx, args[1])
		if err != nil {
			return fmt.Errorf("jobs retry: %w", err)
		}
		_, err = fmt.Fprintf(out, "job %s (%s) is queued again\n", j.ID, j.Kind)
		return err
	case "probe":
		fs := pflag.NewFlagSet("pfinni jobs probe", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		count := fs.Int("count", 1, "how many probe jobs")
		if err := fs.Parse(args[1:]); err != nil || *count < 1 || fs.NArg() > 0 {
			return fmt.Errorf("jobs probe: want [--count N] with N >= 1\n%s", jobsUsage)
		}
		n, err := jobs.EnqueueProbes(ctx, db, *count)
		if err != nil {
			return fmt.Errorf("jobs probe: %w", err)
		}
		_, err = fmt.Fprintf(out, "enqueued %d probe jobs (kind %s); `pfinni jobs list --kind %s` shows them\n", n, jobs.ProbeKind, jobs.ProbeKind)
		return err
	case "help", "-h", "--help":
		_, err := fmt.Fprintln(out, jobsUsage)
		return err
	default:
		return fmt.Errorf("jobs: unknown subcommand %q\n%s", args[0], jobsUsage)
	}
}

func jobsList(ctx context.Context, adm *jobs.Admin, args []string, out io.Writer) error {
	fs := pflag.NewFlagSet("pfinni jobs list", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	state := fs.String("state", "", "only jobs in this state")
	kind := fs.String("kind", "", "only jobs of this kind")
	limit := fs.Int("limit", 50, "at most this many, newest first")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("jobs list: %w\n%s", err, jobsUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("jobs list: unexpected argument %q\n%s", fs.Arg(0), jobsUsage)
	}
	items, total, err := adm.List(ctx, jobs.Filter{State: jobs.State(*state), Kind: *kind, Limit: *limit})
	if err != nil {
		return fmt.Errorf("jobs list: %w", err)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tATTEMPTS\tRUN AT\tLAST ERROR")
	for _, j := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.State, j.Attempts, j.MaxAttempts,
			j.RunAt.Format(time.RFC3339), oneLine(j.LastError, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%d of %d jobs\n", len(items), total)
	return err
}

// oneLine shortens s to one line of at most n runes.
func oneLine(s string, n int) string {
	r := []rune(s)
	for i, c := range r {
		if c == '\n' || c == '\r' {
			r = r[:i]
			break
		}
	}
	if len(r) > n {
		r = append(r[:n-1], '…')
	}
	return string(r)
}
