package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pfinni/pfinni/core/importer"
)

// ErrSomeRejected is returned by pfinni import when files were rejected
// (they are kept in the quarantine), so scripts see a non-zero exit.
var ErrSomeRejected = errors.New("some files were rejected; they are kept in the quarantine with their reasons")

// runImport is `pfinni import PATH...`: files, folders (recursively) and
// .zip archives. It first finishes interrupted imports, then imports the
// paths with a progress bar on stderr (plain lines when stderr is not a
// terminal) and prints a summary table to out.
func runImport(ctx context.Context, svc *importer.Service, args []string, out io.Writer) error {
	return importTo(ctx, svc, args, out, os.Stderr, isTerminal(os.Stderr))
}

func importTo(ctx context.Context, svc *importer.Service, args []string, out, progress io.Writer, tty bool) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(out, "usage: pfinni import PATH...   (files, folders, .zip archives of C-CDA or FHIR XML documents)")
		if len(args) == 0 {
			return errors.New("import: name at least one file or folder")
		}
		return nil
	}
	if n, err := svc.Resume(ctx); err != nil {
		return fmt.Errorf("import: resume interrupted imports: %w", err)
	} else if n > 0 {
		fmt.Fprintf(progress, "finished %d interrupted import(s)\n", n)
	}
	ins, err := importer.Collect(args, svc.MaxBytes())
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	bar := &progressBar{w: progress, tty: tty, start: time.Now()}
	job, err := svc.Run(ctx, ins, bar.update)
	bar.finish()
	if job != nil {
		printSummary(out, job)
	}
	if err != nil {
		return fmt.Errorf("import: %w (run the same command again to finish it)", err)
	}
	if job.Counts.Rejected > 0 {
		return fmt.Errorf("import: %d of %d files: %w", job.Counts.Rejected, len(job.Files), ErrSomeRejected)
	}
	return nil
}

// progressBar draws "[#####.....] 12/40 name" on a terminal, redrawn in
// place, or one plain line per file otherwise.
type progressBar struct {
	w     io.Writer
	tty   bool
	start time.Time
	drawn bool
}

func (b *progressBar) update(p importer.Progress, f importer.File) {
	if !b.tty {
		fmt.Fprintf(b.w, "%d/%d %s %s\n", p.Done, p.Total, f.Result, f.Name)
		return
	}
	const width = 30
	filled := 0
	if p.Total > 0 {
		filled = width * p.Done / p.Total
	}
	name := f.Name
	if len(name) > 40 {
		name = "…" + name[len(name)-39:]
	}
	rate := float64(p.Done) / max(time.Since(b.start).Seconds(), 0.001)
	fmt.Fprintf(b.w, "\r[%s%s] %d/%d %5.1f docs/s %-40s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.Done, p.Total, rate, name)
	b.drawn = true
}

func (b *progressBar) finish() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
	}
}

func printSummary(out io.Writer, job *importer.Job) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tRESULT\tRECORDS\tPROBLEMS\tDETAIL")
	for _, f := range job.Files {
		result := f.Result
		if result == "" {
			result = "pending"
			if f.Waiting != "" {
				result = "waiting" // for its importer plugin; Detail says which
			}
		}
		detail := f.Detail
		if detail == "" {
			for _, p := range f.Problems {
				if p.Severity == "error" {
					detail = p.Element + ": " + p.Message
					break
				}
			}
		}
		if len(detail) > 100 {
			detail = detail[:99] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", f.Name, result, f.Records, len(f.Problems), detail)
	}
	c := job.Counts
	review := "" // records a person decides on (the identity review queue)
	if c.NeedsReview > 0 {
		review = fmt.Sprintf(", needs review %d", c.NeedsReview)
	}
	fmt.Fprintf(tw, "TOTAL %d files\tcreated %d, updated %d, unchanged %d, rejected %d%s\t\t\tjob %s (%s)\n",
		len(job.Files), c.Created, c.Updated, c.Unchanged, c.Rejected, review, job.ID, job.Status)
	_ = tw.Flush()
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
