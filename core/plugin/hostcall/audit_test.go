package hostcall

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/sdk"
)

// A plugin search that returns the maximum of 100 patients is answered
// and audited (security review LOW 2: listing every id overflowed the
// audit detail's 512 bytes, so the audit, and with it the search, failed
// for any answer over about 25 rows).
func TestLargeSearchIsAuditedInTheRealTrail(t *testing.T) {
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, log.Close(ctx))
	})
	many := make([]sdk.PatientSummary, 240)
	for i := range many {
		many[i] = sdk.PatientSummary{ID: fmt.Sprintf("patient:p_%016x", i), MRN: fmt.Sprintf("MRN%06d", i), Status: "active"}
	}
	d := New(Services{Patients: &patients{list: sdk.PatientList{Patients: many, Total: len(many)}}, Audit: log})
	ctx := actor.With(context.Background(), actor.Actor{UserID: "user:7", Role: actor.RoleStaff, RequestID: "r1", IP: "10.0.0.1"})

	env := d.Call(ctx, Caller{Plugin: "intent-patients", Capabilities: []string{sdk.CapPatientsRead}}, sdk.OpPatientsSearch, []byte(`{"limit":100}`))
	var list sdk.PatientList
	require.NoError(t, sdk.DecodeEnvelope(env, &list))
	assert.Len(t, list.Patients, MaxPatients)

	evs, err := store.Query[[]audit.Event](context.Background(), db, "SELECT * FROM audit WHERE action = 'plugin.patients.search' ORDER BY seq", nil)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	ev := evs[0]
	assert.Equal(t, audit.OutcomeSuccess, ev.Outcome)
	assert.Equal(t, "user:7", ev.Actor)
	assert.LessOrEqual(t, len(ev.Detail), 512)
	assert.Contains(t, ev.Detail, "plugin intent-patients; 100 of 240 records: patient:p_0000000000000000,")
	assert.Regexp(t, `… \(\+\d+ more\)$`, ev.Detail)
}

func TestSearchDetailBounds(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("patient:%030d", i)
		}
		return out
	}
	tests := []struct {
		name string
		ids  []string
		want string
	}{
		{name: "none", ids: nil, want: "plugin p; 0 of 0 records: "},
		{name: "fits", ids: ids(2), want: "plugin p; 2 of 2 records: patient:000000000000000000000000000000,patient:000000000000000000000000000001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, searchDetail("p", tc.ids, len(tc.ids)))
		})
	}
	for n := 1; n <= MaxPatients; n++ {
		got := searchDetail("p", ids(n), n)
		require.LessOrEqual(t, len(got), maxDetail, "n=%d", n)
	}
	assert.Equal(t, "1 of 1 records", searchDetail(string(make([]byte, 600)), ids(1), 1))
}
