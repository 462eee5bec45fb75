package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// seedTrail stores 60 events one second apart, starting at t0+1s:
// event i (1-based) is by u<i%3>, action patient.read (odd) or
// patient.update (even), record patient:p<i%5>, outcome denied every
// tenth, resource "user" every fourth.
func seedTrail(t *testing.T) (*store.DB, *audit.Log) {
	t.Helper()
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{Now: newClock(t0).Now})
	for i := 1; i <= 60; i++ {
		e := audit.Event{Actor: fmt.Sprintf("u%d", i%3), Role: "staff", Action: "patient.read", Resource: "patient",
			Record: fmt.Sprintf("patient:p%d", i%5), Outcome: audit.OutcomeSuccess}
		if i%2 == 0 {
			e.Action = "patient.update"
		}
		if i%10 == 0 {
			e.Outcome = audit.OutcomeDenied
		}
		if i%4 == 0 {
			e.Resource = "user"
		}
		require.NoError(t, l.Record(context.Background(), e))
	}
	return db, l
}

func seqs(evs []audit.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

// expect returns the seqs in 60..1 for which keep holds, at most n.
func expect(n int, keep func(i int64) bool) []int64 {
	var out []int64
	for i := int64(60); i >= 1 && len(out) < n; i-- {
		if keep(i) {
			out = append(out, i)
		}
	}
	return out
}

func TestListFilters(t *testing.T) {
	_, l := seedTrail(t)
	at := func(i int64) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	cases := []struct {
		name   string
		filter audit.Filter
		want   []int64
	}{
		{"newest first", audit.Filter{Limit: 5}, expect(5, func(int64) bool { return true })},
		{"default limit", audit.Filter{}, expect(50, func(int64) bool { return true })},
		{"by actor", audit.Filter{Actor: "u1", Limit: 100}, expect(100, func(i int64) bool { return i%3 == 1 })},
		{"by action", audit.Filter{Action: "patient.update", Limit: 100}, expect(100, func(i int64) bool { return i%2 == 0 })},
		{"by record", audit.Filter{Record: "patient:p2", Limit: 100}, expect(100, func(i int64) bool { return i%5 == 2 })},
		{"by outcome", audit.Filter{Outcome: audit.OutcomeDenied, Limit: 100}, expect(100, func(i int64) bool { return i%10 == 0 })},
		{"by resource", audit.Filter{Resource: "user", Limit: 100}, expect(100, func(i int64) bool { return i%4 == 0 })},
		{"actor and action", audit.Filter{Actor: "u0", Action: "patient.read", Limit: 100}, expect(100, func(i int64) bool { return i%3 == 0 && i%2 == 1 })},
		{"time range", audit.Filter{From: at(10), To: at(20), Limit: 100}, expect(100, func(i int64) bool { return i >= 10 && i < 20 })},
		{"from only", audit.Filter{From: at(55), Limit: 100}, expect(100, func(i int64) bool { return i >= 55 })},
		{"to only", audit.Filter{To: at(4), Limit: 100}, expect(100, func(i int64) bool { return i < 4 })},
		{"actor in time range", audit.Filter{Actor: "u2", From: at(10), To: at(30), Limit: 100}, expect(100, func(i int64) bool { return i%3 == 2 && i >= 10 && i < 30 })},
		{"outcome and time", audit.Filter{Outcome: audit.OutcomeDenied, To: at(45), Limit: 2}, []int64{40, 30}},
		{"nothing matches", audit.Filter{Actor: "nobody"}, nil},
		{"before all", audit.Filter{To: at(1)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.filter.Cursor = "61" // below the audit.read events the test adds
			p, err := l.List(auditor, tc.filter)
			require.NoError(t, err)
			want := tc.want
			if want == nil {
				want = []int64{}
			}
			assert.Equal(t, want, seqs(p.Items))
		})
	}
}

func TestListPagesWithCursor(t *testing.T) {
	filters := map[string]audit.Filter{
		"unfiltered": {Limit: 7},
		"indexed":    {Action: "patient.read", Limit: 7},
		"scanned":    {Outcome: audit.OutcomeSuccess, Limit: 7},
	}
	_, l := seedTrail(t)
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			var all []int64
			pages := 0
			for {
				p, err := l.List(admin, f)
				require.NoError(t, err)
				all = append(all, seqs(p.Items)...)
				pages++
				require.Less(t, pages, 20)
				if p.NextCursor == "" {
					break
				}
				assert.Len(t, p.Items, 7)
				f.Cursor = p.NextCursor
			}
			// Reading the trail adds audit.read events above seq 60; the
			// cursor keeps later pages below them.
			for i := 1; i < len(all); i++ {
				assert.Greater(t, all[i-1], all[i], "strictly newest first, no repeats")
			}
			assert.Equal(t, int64(1), all[len(all)-1], "reaches the oldest match")
		})
	}
}

func TestListIsAuditedAndAuthorized(t *testing.T) {
	db, l := seedTrail(t)
	_, err := l.List(auditor, audit.Filter{Actor: "u1", Record: "patient:p1", Limit: 3})
	require.NoError(t, err)
	evs := rawEvents(t, db)
	last := evs[len(evs)-1]
	assert.Equal(t, audit.ActionRead, last.Action)
	assert.Equal(t, "audit", last.Resource)
	assert.Equal(t, "u_auditor", last.Actor)
	assert.Equal(t, "auditor", last.Role)
	assert.Equal(t, audit.OutcomeSuccess, last.Outcome)
	assert.Equal(t, "list by actor,record; 3 events", last.Detail, "filter names, never values")

	_, err = l.List(staff, audit.Filter{})
	assert.ErrorIs(t, err, fault.ErrForbidden)
	_, err = l.List(context.Background(), audit.Filter{})
	assert.ErrorIs(t, err, fault.ErrForbidden, "anonymous")
	evs = rawEvents(t, db)
	assert.Equal(t, audit.OutcomeDenied, evs[len(evs)-1].Outcome)
}

func TestListRefusesBadFilters(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{})
	cases := []struct {
		name   string
		filter audit.Filter
		field  string
	}{
		{"limit too big", audit.Filter{Limit: 501}, "limit"},
		{"negative limit", audit.Filter{Limit: -1}, "limit"},
		{"bad cursor", audit.Filter{Cursor: "abc"}, "cursor"},
		{"zero cursor", audit.Filter{Cursor: "0"}, "cursor"},
		{"bad outcome", audit.Filter{Outcome: "won"}, "outcome"},
		{"to before from", audit.Filter{From: t0, To: t0}, "to"},
		{"long actor", audit.Filter{Actor: string(make([]byte, 513))}, "actor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.List(admin, tc.filter)
			var fields fault.Fields
			require.ErrorAs(t, err, &fields)
			assert.Equal(t, tc.field, fields[0].Field)
			assert.ErrorIs(t, tc.filter.Validate(), fault.ErrInvalid)
		})
	}
	assert.Empty(t, rawEvents(t, db), "a refused filter reads nothing and is not audited")
}

func TestFilterFromParams(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]string
		want   audit.Filter
		field  string
	}{
		{"empty", map[string]string{}, audit.Filter{}, ""},
		{"all", map[string]string{"actor": "u1", "action": "patient.read", "resource": "patient", "record": "patient:p1",
			"outcome": "denied", "from": "2025-03-01", "to": "2025-03-02T10:00:00+01:00", "limit": "20", "cursor": "99"},
			audit.Filter{Actor: "u1", Action: "patient.read", Resource: "patient", Record: "patient:p1", Outcome: "denied",
				From: t0, To: time.Date(2025, 3, 2, 9, 0, 0, 0, time.UTC), Limit: 20, Cursor: "99"}, ""},
		{"date as upper bound is the end of the day", map[string]string{"to": "2025-03-01"}, audit.Filter{To: t0.AddDate(0, 0, 1)}, ""},
		{"blank bounds", map[string]string{"from": "", "to": "", "limit": ""}, audit.Filter{}, ""},
		{"bad from", map[string]string{"from": "yesterday"}, audit.Filter{}, "from"},
		{"bad to", map[string]string{"to": "2025-13-01"}, audit.Filter{}, "to"},
		{"bad limit", map[string]string{"limit": "many"}, audit.Filter{}, "limit"},
		{"limit too big", map[string]string{"limit": "1000"}, audit.Filter{}, "limit"},
		{"unknown", map[string]string{"name": "Smith"}, audit.Filter{}, "name"},
		{"bad outcome", map[string]string{"outcome": "maybe"}, audit.Filter{}, "outcome"},
		{"inverted range", map[string]string{"from": "2025-03-02", "to": "2025-03-01T00:00:00Z"}, audit.Filter{}, "to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := audit.FilterFromParams(tc.params)
			if tc.field == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, f)
				return
			}
			var fields fault.Fields
			require.ErrorAs(t, err, &fields)
			assert.Equal(t, tc.field, fields[0].Field)
		})
	}
}
