package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestExportCSV(t *testing.T) {
	db, l := seedTrail(t)
	var buf bytes.Buffer
	require.NoError(t, l.ExportCSV(auditor, &buf, audit.Filter{Action: "patient.update", Cursor: "61", Limit: 3}))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 31, "header and every match: Limit does not cut an export")
	assert.Equal(t, []string{"seq", "at", "actor", "role", "action", "resource", "record", "outcome", "request_id", "ip", "detail", "prev_hash", "hash", "key_id"}, rows[0])
	assert.Equal(t, "60", rows[1][0], "newest first")
	assert.Equal(t, "2", rows[30][0])

	// Each row carries what is needed to recompute its hash.
	evs := rawEvents(t, db)
	e := evs[59]
	assert.Equal(t, []string{"60", e.At.Format("2006-01-02T15:04:05Z07:00"), e.Actor, e.Role, e.Action, e.Resource, e.Record, e.Outcome, e.RequestID, e.IP, e.Detail, e.PrevHash, e.Hash, e.KeyID}, rows[1])

	last := evs[len(evs)-1]
	assert.Equal(t, audit.ActionRead, last.Action)
	assert.Equal(t, "export csv by action,cursor", last.Detail)
}

func TestExportStreamsManyPages(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{})
	const n = 1200 // more than two pages of 500
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { assert.NoError(t, l.Record(staff, read(fmt.Sprintf("patient:p%d", i)))) })
	}
	wg.Wait()
	x, err := l.OpenExport(admin, audit.Filter{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, x.WriteCSV(context.Background(), &buf))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, n+2, "header, the events and the export's own audit.read")
	for i := 1; i < len(rows); i++ {
		seq, err := strconv.Atoi(rows[i][0])
		require.NoError(t, err)
		assert.Equal(t, n+2-i, seq)
	}
}

func TestExportDefusesFormulas(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{})
	require.NoError(t, l.Record(staff, audit.Event{Action: "import.run", Resource: "import", Outcome: audit.OutcomeFailure, Detail: "=HYPERLINK(\"x\")", Record: "-1"}))
	var buf bytes.Buffer
	require.NoError(t, l.ExportCSV(admin, &buf, audit.Filter{Resource: "import"}))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "'=HYPERLINK(\"x\")", rows[1][10])
	assert.Equal(t, "'-1", rows[1][6])
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errors.New("disk full")
	}
	w.after--
	return len(p), nil
}

func TestExportRefusals(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{})
	require.NoError(t, l.Record(staff, read("patient:p1")))

	err := l.ExportCSV(staff, &bytes.Buffer{}, audit.Filter{})
	assert.ErrorIs(t, err, fault.ErrForbidden)
	err = l.ExportCSV(admin, &bytes.Buffer{}, audit.Filter{Outcome: "nope"})
	assert.ErrorIs(t, err, fault.ErrInvalid)

	err = l.ExportCSV(admin, &failingWriter{}, audit.Filter{})
	assert.ErrorContains(t, err, "disk full")
}
