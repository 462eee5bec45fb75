package audit

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Paging limits of List.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Filter selects events for List and the CSV export. Empty fields match
// everything; set fields must all match.
type Filter struct {
	Actor    string
	Action   string
	Resource string
	Record   string
	Outcome  string
	From     time.Time // inclusive; zero for no lower bound
	To       time.Time // exclusive; zero for no upper bound
	Limit    int       // page size, 1..MaxLimit; DefaultLimit when 0
	Cursor   string    // Page.NextCursor of the previous page; "" for the newest
}

// Page is one page of events, newest first.
type Page struct {
	Items []Event `json:"items"`
	// NextCursor fetches the next (older) page; "" when there is none.
	NextCursor string `json:"next_cursor"`
}

// query is a validated Filter.
type query struct {
	Filter
	before int64 // only events with seq < before; MaxInt64 for all
}

// Validate checks f; the errors name the API's query parameters.
func (f Filter) Validate() error {
	_, err := f.parse()
	return err
}

func (f Filter) parse() (query, error) {
	var errs fault.Fields
	q := query{Filter: f, before: math.MaxInt64}
	switch {
	case f.Limit == 0:
		q.Limit = DefaultLimit
	case f.Limit < 0 || f.Limit > MaxLimit:
		errs.Add("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	if f.Cursor != "" {
		n, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || n < 1 {
			errs.Add("cursor", "is not a cursor this API returned (next_cursor)")
		}
		q.before = n
	}
	if f.Outcome != "" && !validOutcome(f.Outcome) {
		errs.Add("outcome", "must be success, denied, failure or error")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		errs.Add("to", "must be later than from")
	}
	for name, v := range map[string]string{"actor": f.Actor, "action": f.Action, "resource": f.Resource, "record": f.Record} {
		if len(v) > maxFieldLen {
			errs.Add(name, "is longer than 512 bytes")
		}
	}
	return q, errs.Err()
}

// indexed reports whether an equality index (actor, record, action)
// serves the query.
func (q query) indexed() bool { return q.Actor != "" || q.Record != "" || q.Action != "" }

// where returns the conditions (joined by AND) and their variables.
func (q query) where() (string, map[string]any) {
	var conds []string
	vars := map[string]any{}
	add := func(field, v string) {
		if v != "" {
			conds = append(conds, field+" = $"+field)
			vars[field] = v
		}
	}
	// Most selective first: the planner takes the first usable index.
	add("record", q.Record)
	add("actor", q.Actor)
	add("action", q.Action)
	add("resource", q.Resource)
	add("outcome", q.Outcome)
	if !q.From.IsZero() {
		conds = append(conds, "at >= $from")
		vars["from"] = models.CustomDateTime{Time: q.From.UTC()}
	}
	if !q.To.IsZero() {
		conds = append(conds, "at < $to")
		vars["to"] = models.CustomDateTime{Time: q.To.UTC()}
	}
	return strings.Join(conds, " AND "), vars
}

// List returns one page of events matching f, newest first. Only admins,
// auditors and the system may read the trail; the read itself is audited
// (action audit.read) before the page is returned.
func (l *Log) List(ctx context.Context, f Filter) (Page, error) {
	q, err := f.parse()
	if err != nil {
		return Page{}, fmt.Errorf("list audit events: %w", err)
	}
	if err := l.authorize(ctx, "list"); err != nil {
		return Page{}, fmt.Errorf("list audit events: %w", err)
	}
	page, err := l.page(ctx, q)
	if err != nil {
		_ = l.recordRead(ctx, OutcomeError, "list") // the query error is what the caller needs
		return Page{}, fmt.Errorf("list audit events: %w", err)
	}
	if err := l.recordRead(ctx, OutcomeSuccess, fmt.Sprintf("list %s; %d events", filterNames(q.Filter), len(page.Items))); err != nil {
		return Page{}, fmt.Errorf("list audit events: %w", err)
	}
	return page, nil
}

// page reads one page for q without authorization or auditing.
func (l *Log) page(ctx context.Context, q query) (Page, error) {
	var items []Event
	var err error
	if q.indexed() {
		items, err = l.pageByIndex(ctx, q)
	} else {
		items, err = l.pageByScan(ctx, q)
	}
	if err != nil {
		return Page{}, err
	}
	p := Page{Items: items}
	if len(items) > q.Limit {
		p.Items = items[:q.Limit]
		p.NextCursor = strconv.FormatInt(p.Items[q.Limit-1].Seq, 10)
	}
	if p.Items == nil {
		p.Items = []Event{}
	}
	return p, nil
}

// pageByIndex serves filters on actor, record or action: the planner
// reads the matching entries of that index and keeps the newest
// (SurrealDB 3.0 sorts index matches with a top-k; it neither scans an
// index backwards nor uses a compound (actor, seq) index for ORDER BY, as
// EXPLAIN showed). The cost grows with the matches older than the cursor
// — fine for a record or a user; a time range bounds it for busy actors.
func (l *Log) pageByIndex(ctx context.Context, q query) ([]Event, error) {
	where, vars := q.where()
	if q.before != math.MaxInt64 {
		where += " AND id < $before"
		vars["before"] = recordID(q.before)
	}
	vars["n"] = q.Limit + 1
	return store.Query[[]Event](ctx, l.db, "SELECT * FROM audit WHERE "+where+" ORDER BY id DESC LIMIT $n", vars)
}

// maxWindow bounds one key-range read of pageByScan.
const maxWindow = 8192

// pageByScan serves the other filters by reading key ranges of
// audit:<seq> backwards from the cursor, window by window (each a forward
// range scan, the only direction record ranges have), until the page is
// full or the chain's start (or the from bound) is passed. Without
// filters the first window is exactly one page.
func (l *Log) pageByScan(ctx context.Context, q query) ([]Event, error) {
	hi := q.before - 1
	if q.before == math.MaxInt64 || !q.To.IsZero() {
		t, err := loadTail(ctx, l.db)
		if err != nil {
			return nil, err
		}
		hi = min(hi, t.seq)
		if !q.To.IsZero() {
			top, err := l.lastBefore(ctx, q.To, hi)
			if err != nil {
				return nil, err
			}
			hi = top
		}
	}
	where, vars := q.where()
	if where != "" {
		where = " WHERE " + where
	}
	want := q.Limit + 1
	window := int64(want)
	var out []Event
	for hi >= 1 && len(out) < want {
		lo := max(1, hi-window+1)
		vars["n"] = want - len(out)
		// lo and hi are integers formatted here: record ranges take no
		// parameters.
		sql := fmt.Sprintf("SELECT * FROM audit:%d..=%d%s ORDER BY id DESC LIMIT $n", lo, hi, where)
		rows, err := store.Query[[]Event](ctx, l.db, sql, vars)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if !q.From.IsZero() {
			oldest, err := l.atOf(ctx, lo)
			if err != nil {
				return nil, err
			}
			if !oldest.IsZero() && oldest.Before(q.From.Add(-clockSkew)) {
				break
			}
		}
		hi = lo - 1
		window = min(window*4, maxWindow)
	}
	return out, nil
}

// clockSkew is how far apart the clocks of two core instances writing
// one chain may be: at is only nearly monotonic in seq.
const clockSkew = time.Minute

// atOf returns the time of event seq (zero if it does not exist).
func (l *Log) atOf(ctx context.Context, seq int64) (time.Time, error) {
	type atRow struct {
		At time.Time `json:"at"`
	}
	rows, err := store.Query[[]atRow](ctx, l.db, "SELECT at FROM $id", map[string]any{"id": recordID(seq)})
	if err != nil || len(rows) == 0 {
		return time.Time{}, err
	}
	return rows[0].At, nil
}

// lastBefore returns a seq at or above the last event older than t
// (bisection over the gap-free seq; at is nearly monotonic, so the result
// is moved up by a margin and the query's at < $to does the exact cut).
func (l *Log) lastBefore(ctx context.Context, t time.Time, hi int64) (int64, error) {
	lo, top := int64(1), hi
	limit := t.Add(clockSkew)
	for lo <= hi {
		mid := lo + (hi-lo)/2
		at, err := l.atOf(ctx, mid)
		if err != nil {
			return 0, err
		}
		if !at.IsZero() && !at.Before(limit) {
			hi = mid - 1
		} else {
			lo = mid + 1
		}
	}
	return min(top, hi), nil
}

// filterNames lists the names (never the values) of the filters in use.
func filterNames(f Filter) string {
	var names []string
	for _, p := range []struct {
		name string
		set  bool
	}{
		{"actor", f.Actor != ""}, {"action", f.Action != ""}, {"resource", f.Resource != ""},
		{"record", f.Record != ""}, {"outcome", f.Outcome != ""}, {"from", !f.From.IsZero()},
		{"to", !f.To.IsZero()}, {"cursor", f.Cursor != ""},
	} {
		if p.set {
			names = append(names, p.name)
		}
	}
	if len(names) == 0 {
		return "unfiltered"
	}
	return "by " + strings.Join(names, ",")
}

// authorize admits admins, auditors and the system; anyone else is
// refused, and the refusal is audited.
func (l *Log) authorize(ctx context.Context, what string) error {
	switch actor.From(ctx).Role {
	case actor.RoleAdmin, actor.RoleAuditor, actor.RoleSystem:
		return nil
	}
	if err := l.recordRead(ctx, OutcomeDenied, what); err != nil {
		return err
	}
	return fault.New(fault.ErrForbidden, "only admins and auditors may read the audit trail")
}

// recordRead audits a read of the trail.
func (l *Log) recordRead(ctx context.Context, outcome, detail string) error {
	return l.Record(ctx, Event{Action: ActionRead, Resource: "audit", Outcome: outcome, Detail: detail})
}

// ParseTime reads a filter bound: RFC 3339, or a date YYYY-MM-DD (UTC).
// A date used as an upper bound (end true) means the end of that day.
func ParseTime(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be RFC 3339 (2025-03-01T09:30:00Z) or a date YYYY-MM-DD")
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// FilterFromParams builds a Filter from the API's query parameters
// (actor, action, resource, record, outcome, from, to, limit, cursor);
// the errors name the parameter. Unknown parameters are refused.
func FilterFromParams(params map[string]string) (Filter, error) {
	var f Filter
	var errs fault.Fields
	for name, v := range params {
		switch name {
		case "actor":
			f.Actor = v
		case "action":
			f.Action = v
		case "resource":
			f.Resource = v
		case "record":
			f.Record = v
		case "outcome":
			f.Outcome = v
		case "cursor":
			f.Cursor = v
		case "from", "to":
			if v == "" {
				continue
			}
			t, err := ParseTime(v, name == "to")
			if err != nil {
				errs.Add(name, err.Error())
			} else if name == "from" {
				f.From = t
			} else {
				f.To = t
			}
		case "limit":
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxLimit {
				errs.Add("limit", fmt.Sprintf("must be a whole number between 1 and %d", MaxLimit))
				continue
			}
			f.Limit = n
		default:
			errs.Add(name, "unknown parameter; use actor, action, resource, record, outcome, from, to, limit or cursor")
		}
	}
	if err := errs.Err(); err != nil {
		return Filter{}, err
	}
	if err := f.Validate(); err != nil {
		return Filter{}, err
	}
	return f, nil
}
