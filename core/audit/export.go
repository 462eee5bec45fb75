package audit

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/pfinni/pfinni/internal/csvsafe"
)

// csvHeader is the first line of an export; the columns are the Event's
// JSON names.
var csvHeader = []string{"seq", "at", "actor", "role", "action", "resource", "record", "outcome", "request_id", "ip", "detail", "prev_hash", "hash", "key_id"}

// Export is an authorized, audited export waiting to be written (see
// OpenExport). It is used once.
type Export struct {
	l *Log
	q query
}

// OpenExport checks that the caller may read the trail, validates f and
// records the audit.read event, so that an HTTP handler can refuse with a
// proper status before the first byte of a streamed body is sent. f.Limit
// is ignored: an export holds every matching event; f.Cursor, when set,
// starts it below that page.
func (l *Log) OpenExport(ctx context.Context, f Filter) (*Export, error) {
	f.Limit = 0
	q, err := f.parse()
	if err != nil {
		return nil, fmt.Errorf("export audit events: %w", err)
	}
	if err := l.authorize(ctx, "export"); err != nil {
		return nil, fmt.Errorf("export audit events: %w", err)
	}
	if err := l.recordRead(ctx, OutcomeSuccess, "export csv "+filterNames(f)); err != nil {
		return nil, fmt.Errorf("export audit events: %w", err)
	}
	q.Limit = MaxLimit
	return &Export{l: l, q: q}, nil
}

// WriteCSV streams the export to w as CSV (RFC 4180, header first),
// newest first, one page of events in memory at a time. Cells that a
// spreadsheet would run as a formula (starting with = + - @ tab or CR)
// are prefixed with a single quote.
func (x *Export) WriteCSV(ctx context.Context, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write audit csv: %w", err)
	}
	q := x.q
	for {
		p, err := x.l.page(ctx, q)
		if err != nil {
			return fmt.Errorf("write audit csv: %w", err)
		}
		for _, e := range p.Items {
			if err := cw.Write(csvRow(e)); err != nil {
				return fmt.Errorf("write audit csv: %w", err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write audit csv: %w", err)
		}
		if p.NextCursor == "" {
			return nil
		}
		q.before, _ = strconv.ParseInt(p.NextCursor, 10, 64)
	}
}

// ExportCSV is OpenExport followed by WriteCSV.
func (l *Log) ExportCSV(ctx context.Context, w io.Writer, f Filter) error {
	x, err := l.OpenExport(ctx, f)
	if err != nil {
		return err
	}
	return x.WriteCSV(ctx, w)
}

func csvRow(e Event) []string {
	return []string{
		strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano),
		safeCell(e.Actor), safeCell(e.Role), safeCell(e.Action), safeCell(e.Resource),
		safeCell(e.Record), safeCell(e.Outcome), safeCell(e.RequestID), safeCell(e.IP),
		safeCell(e.Detail), e.PrevHash, e.Hash, safeCell(e.KeyID),
	}
}

// safeCell defuses spreadsheet formula injection (csvsafe.Cell).
func safeCell(s string) string { return csvsafe.Cell(s) }
