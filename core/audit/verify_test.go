package audit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// unlock lets the test act as an attacker with root access to the
// database: it first lifts the READONLY schema.
const unlock = `DEFINE FIELD OVERWRITE seq ON audit TYPE int;
DEFINE FIELD OVERWRITE outcome ON audit TYPE string;
DEFINE FIELD OVERWRITE hash ON audit TYPE string;
DEFINE FIELD OVERWRITE prev_hash ON audit TYPE string;
`

func TestVerifyFindsTheFirstBrokenLink(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(t *testing.T, db *store.DB, evs []audit.Event) string
		seq     int64
		problem string
	}{
		{"intact", func(*testing.T, *store.DB, []audit.Event) string { return "" }, 0, ""},
		{"field edited", func(t *testing.T, db *store.DB, _ []audit.Event) string {
			return unlock + "UPDATE audit:4 SET outcome = 'denied'; UPDATE audit:7 SET outcome = 'denied';"
		}, 4, audit.ProblemHashMismatch},
		{"field edited and rehashed", func(t *testing.T, db *store.DB, evs []audit.Event) string {
			e := evs[3]
			e.Outcome = audit.OutcomeDenied
			return unlock + fmt.Sprintf("UPDATE audit:4 SET outcome = 'denied', hash = '%s';", audit.ComputeHash(e))
		}, 5, audit.ProblemPrevMismatch},
		{"event deleted", func(*testing.T, *store.DB, []audit.Event) string { return "DELETE audit:6;" }, 6, audit.ProblemGap},
		{"first event deleted", func(*testing.T, *store.DB, []audit.Event) string { return "DELETE audit:1;" }, 1, audit.ProblemGap},
		{"many deleted", func(*testing.T, *store.DB, []audit.Event) string { return "DELETE audit:3..=8;" }, 3, audit.ProblemGap},
		{"seq renumbered", func(*testing.T, *store.DB, []audit.Event) string {
			return unlock + "UPDATE audit:5 SET seq = 50;"
		}, 5, audit.ProblemSeqMismatch},
		{"foreign record", func(_ *testing.T, _ *store.DB, evs []audit.Event) string {
			return unlock + fmt.Sprintf("CREATE audit:forged CONTENT { seq: 11, at: time::now(), actor: 'x', role: 'admin', action: 'a', resource: 'r', record: '', outcome: 'success', request_id: '', ip: '', prev_hash: '%s', hash: '%s' };", evs[9].Hash, evs[9].Hash)
		}, 11, audit.ProblemSeqMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.New(t)
			l := newLog(t, db, audit.Options{PageSize: 3})
			for i := range 10 {
				require.NoError(t, l.Record(staff, read(fmt.Sprintf("patient:p%d", i))))
			}
			evs := rawEvents(t, db)
			if sql := tc.tamper(t, db, evs); sql != "" {
				require.NoError(t, db.Exec(context.Background(), sql, nil))
			}
			rep, err := l.Verify(auditor)
			require.NoError(t, err)
			if tc.problem == "" {
				assert.True(t, rep.OK)
				assert.Nil(t, rep.Broken)
				assert.Equal(t, int64(10), rep.Count)
				assert.Equal(t, evs[9].Hash, rep.HeadHash)
				assert.Equal(t, int64(10), rep.HeadSeq)
				assert.Equal(t, "audit chain OK: 10 events", rep.String())
				return
			}
			assert.False(t, rep.OK)
			require.NotNil(t, rep.Broken)
			assert.Equal(t, tc.seq, rep.Broken.Seq)
			assert.Equal(t, tc.problem, rep.Broken.Problem)
			assert.Equal(t, tc.seq-1, rep.Count, "events intact before the break")
			assert.Contains(t, rep.String(), fmt.Sprintf("BROKEN at seq %d (%s)", tc.seq, tc.problem))
			assert.NotEmpty(t, rep.Broken.Detail)
		})
	}
}

func TestVerifyEmptyChainAndItsOwnAudit(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{})
	rep, err := l.Verify(admin)
	require.NoError(t, err)
	assert.Equal(t, audit.Report{OK: true, HeadHash: audit.GenesisHash}, rep)

	evs := rawEvents(t, db)
	require.Len(t, evs, 1, "the verify run is audited")
	assert.Equal(t, audit.ActionRead, evs[0].Action)
	assert.Equal(t, "u_admin", evs[0].Actor)
	assert.Equal(t, "verify: ok, 0 events", evs[0].Detail)

	rep, err = l.Verify(admin)
	require.NoError(t, err)
	assert.Equal(t, int64(1), rep.Count)
}

func TestVerifyRefusesStaff(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{})
	_, err := l.Verify(staff)
	assert.ErrorIs(t, err, fault.ErrForbidden)
	evs := rawEvents(t, db)
	require.Len(t, evs, 1, "the refusal is audited")
	assert.Equal(t, audit.OutcomeDenied, evs[0].Outcome)
	assert.Equal(t, "u_staff", evs[0].Actor)
}
