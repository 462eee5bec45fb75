package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// Report is one harness run: settings, per-path results and process stats.
type Report struct {
	At        time.Time   `json:"at"`
	Patients  int         `json:"patients"`
	Workers   int         `json:"workers"`
	Duration  string      `json:"duration_per_path"`
	Results   []Result    `json:"results"`
	Processes []ProcStats `json:"processes"`
	// Peer is the side-by-side run against PocketBase (--peer), if any.
	Peer  []Comparison   `json:"peer,omitempty"`
	Notes map[string]any `json:"notes,omitempty"`
}

// WriteTable prints the report as a table.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "pfinni bench — %d patients, %d concurrent clients, %s per path\n\n", r.Patients, r.Workers, r.Duration)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "path\tmode\trequests\terrors\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	for _, x := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", x.Name, x.Mode, x.Requests, x.Errors, x.Throughput, x.P50ms, x.P95ms, x.P99ms, x.Maxms)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	for _, x := range r.Results {
		if x.FirstError != "" {
			fmt.Fprintf(w, "first error on %s: %s\n", x.Name, x.FirstError)
		}
	}
	if len(r.Peer) > 0 {
		fmt.Fprintf(w, "\nside by side, same run (ratios > 1: pfinni ahead)\n\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "path\tPocketBase p99 ms\tPocketBase req/s\tpfinni p99 ms\tpfinni req/s\treq/s ratio\tp99 ratio\terrors (PB/pfinni)\t")
		for _, c := range r.Peer {
			fmt.Fprintf(tw, "%s\t%.1f\t%.0f\t%.1f\t%.0f\t%.1f×\t%.1f×\t%d/%d\t\n", c.Path, c.Peer.P99ms, c.Peer.Throughput,
				c.Pfinni.P99ms, c.Pfinni.Throughput, c.Throughput, c.P99, c.Peer.Errors, c.Pfinni.Errors)
		}
		_ = tw.Flush()
		fmt.Fprintln(w)
		for _, c := range r.Peer {
			for _, x := range []Result{c.Peer, c.Pfinni} {
				if x.FirstError != "" {
					fmt.Fprintf(w, "first error on %s: %s\n", x.Name, x.FirstError)
				}
			}
		}
	}
	for _, p := range r.Processes {
		fmt.Fprintf(w, "process %-9s pid %-7d peak RSS %7.1f MB   CPU %6.1f s (%5.1f%% of a core)\n", p.Name, p.PID, p.PeakRSSMB, p.CPUSeconds, p.CPUPercent)
	}
}

// WriteJSON writes the report as JSON to path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
