package patient

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store"
)

// TestCreateBatch: a batch over several transactions creates every good
// item, refuses an MRN another writer holds (even one the directory has
// not heard of yet) and an impossible date item by item, tells the
// observer of each create and audits every item.
func TestCreateBatch(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, WithObserver(rec))
	// Another writer's patient, straight into the database.
	other := &Patient{ID: "p_otherwriter", MRN: "TAKEN", FirstName: "Zed", LastName: "Other", DateOfBirth: "1970-01-01", Sex: "male",
		Status: StatusActive, Source: "manual", Version: 1, CreatedAt: testNow, UpdatedAt: testNow, StatusChangedAt: testNow}
	f.svc.defaults(other)
	require.NoError(t, f.db.Exec(context.Background(), "INSERT INTO patient $p RETURN NONE", map[string]any{"p": other.doc()}))

	var items []BatchItem
	for i := range 2*insertChunk + 7 {
		in := Input{MRN: fmt.Sprintf("B-%03d", i), FirstName: "Batch", LastName: fmt.Sprintf("Person%03d", i),
			DateOfBirth: fmt.Sprintf("19%02d-%02d-%02d", 40+i%50, 1+i%12, 1+i%28), Sex: "female"}
		items = append(items, BatchItem{Input: in})
	}
	items[3].MRN = "TAKEN"
	items[150].DateOfBirth = "1980-02-31"
	f.aud.Reset()
	res, err := f.svc.CreateBatch(f.ctx, items, true)
	require.NoError(t, err)
	require.Len(t, res, len(items))
	created := 0
	for i, r := range res {
		switch i {
		case 3:
			assert.ErrorIs(t, r.Err, ErrDuplicateMRN)
			assert.Nil(t, r.Patient)
		case 150:
			var fields fault.Fields
			require.ErrorAs(t, r.Err, &fields)
			assert.Equal(t, "date_of_birth", fields[0].Field)
		default:
			require.NoError(t, r.Err, "item %d", i)
			got, err := f.svc.Get(f.ctx, r.Patient.ID)
			require.NoError(t, err)
			assert.Equal(t, items[i].MRN, got.MRN)
			created++
		}
	}
	assert.Equal(t, len(items)-2, created)
	assert.Len(t, rec.got, created, "one Committed per create")
	var ok, failed int
	for _, e := range f.aud.Events() {
		if e.Action != "patient.create" {
			continue
		}
		if e.Outcome == audit.OutcomeSuccess {
			ok++
			assert.NotEmpty(t, e.Record)
		} else {
			failed++
		}
	}
	assert.Equal(t, created, ok)
	assert.Equal(t, 2, failed)
}

// TestCreateBatchRefusals: a batch is refused as a whole for a role
// that may not create, or a size out of bounds; a duplicate warning is
// per item; a database that stops answering fails the items, audited.
func TestCreateBatchRefusals(t *testing.T) {
	f := newFixture(t)
	held := f.create(t, input("MRN-1", "Margaret", "Thornton"))

	_, err := f.svc.CreateBatch(patienttest.As(context.Background(), actor.RoleAuditor), []BatchItem{{Input: input("A", "B", "C")}}, false)
	assert.ErrorIs(t, err, ErrNotAllowed)
	for _, n := range []int{0, MaxBatch + 1} {
		_, err = f.svc.CreateBatch(f.ctx, make([]BatchItem, n), false)
		assert.ErrorIs(t, err, ErrBatchSize, "%d items", n)
	}

	look := input("MRN-2", "Margaret", "Thorntan")
	res, err := f.svc.CreateBatch(f.ctx, []BatchItem{{Input: look}, {Input: input("MRN-3", "Margaret", "Thorntan"), ConfirmDuplicate: true}}, false)
	require.NoError(t, err)
	var dup *DuplicateError
	require.ErrorAs(t, res[0].Err, &dup)
	assert.Equal(t, held.ID, dup.Candidates[0].ID)
	require.NoError(t, res[1].Err, "confirmed")
	ev, ok := f.aud.Last("patient.create")
	require.True(t, ok)
	assert.Contains(t, []string{"likely_duplicate candidates=1", "confirm_duplicate candidates=1"}, ev.Detail)

	require.NoError(t, f.db.Close())
	res, err = f.svc.CreateBatch(f.ctx, []BatchItem{{Input: input("MRN-9", "Ada", "Down")}}, true)
	require.NoError(t, err)
	assert.True(t, errors.Is(res[0].Err, store.ErrUnavailable), "%v", res[0].Err)
	ev, _ = f.aud.Last("patient.create")
	assert.NotEqual(t, audit.OutcomeSuccess, ev.Outcome)
}
