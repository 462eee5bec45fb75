package patient

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store"
)

// linkDocument stores a kept-document link the way the importer does.
func linkDocument(t *testing.T, db *store.DB, patientID, doc string) {
	t.Helper()
	require.NoError(t, db.Exec(context.Background(),
		"CREATE patient_document CONTENT {patient_id: $p, document: $d, name: 'x.xml', format: 'fhir', size: 1, created_at: time::now()} RETURN NONE",
		map[string]any{"p": patientID, "d": doc}))
}

func documentsOf(t *testing.T, db *store.DB, patientID string) []string {
	t.Helper()
	docs, err := store.Query[[]string](context.Background(), db,
		"SELECT VALUE document FROM patient_document WHERE patient_id = $p ORDER BY document", map[string]any{"p": patientID})
	require.NoError(t, err)
	return docs
}

func eventsFor(aud *patienttest.Auditor, record, action string) []audit.Event {
	var out []audit.Event
	for _, e := range aud.Events() {
		if e.Record == record && e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// TestMergeAndUndo: identifiers, documents and history move to the kept
// patient, the other record answers "merged into", both audit trails say
// so, and an undo puts everything back.
func TestMergeAndUndo(t *testing.T) {
	f := newFixture(t)
	keepIn := input("MRN-K1", "Maria", "Lopez")
	keepIn.Identifiers = []Identifier{{System: "urn:oid:2.16.840.1.113883.19.5", Value: "12345", Type: "MR"}}
	keep := f.create(t, keepIn)
	fromIn := input("MRN-F1", "Mariah", "Lopez")
	fromIn.Identifiers = []Identifier{
		{System: "urn:oid:2.16.840.1.113883.19.5", Value: "12345", Type: "MR"}, // already held
		{System: "http://hospital.example.org/mrn", Value: "H-77", Type: "MR"},
	}
	from := f.create(t, fromIn)
	_, err := f.svc.ChangeStatus(f.ctx, from.ID, StatusActive, "", 0)
	require.NoError(t, err)
	linkDocument(t, f.db, keep.ID, "doc-shared")
	linkDocument(t, f.db, from.ID, "doc-shared")
	linkDocument(t, f.db, from.ID, "doc-from")

	res, err := f.svc.Merge(f.ctx, keep.ID, from.ID)
	require.NoError(t, err)
	assert.Equal(t, keep.ID, res.Merge.KeepID)
	assert.Equal(t, from.ID, res.Merge.FromID)
	assert.True(t, res.Merge.Undoable)
	assert.Equal(t, testNow.Add(UndoWindow), res.Merge.UndoUntil)
	assert.Equal(t, MergeMoved{Identifiers: 2, Documents: 1, StatusChanges: 2, Changes: 2}, res.Merge.Moved)
	assert.Equal(t, keep.Version+1, res.Keep.Version)
	assert.ElementsMatch(t, []Identifier{
		{System: "urn:oid:2.16.840.1.113883.19.5", Value: "12345", Type: "MR"},
		{System: "http://hospital.example.org/mrn", Value: "H-77", Type: "MR"},
		{System: MergedMRNSystem, Value: "MRN-F1", Type: "MR"},
	}, res.Keep.Identifiers)

	got, err := f.svc.Get(f.ctx, keep.ID)
	require.NoError(t, err)
	assert.Equal(t, res.Keep, got)
	_, err = f.svc.Get(f.ctx, from.ID)
	into, merged := IsMerged(err)
	assert.True(t, merged, "the merged-away id answers where the record went: %v", err)
	assert.Equal(t, keep.ID, into)
	assert.ErrorIs(t, err, ErrNotFound)
	byMRN, err := f.svc.GetByMRN(f.ctx, "MRN-F1")
	require.NoError(t, err)
	assert.Equal(t, keep.ID, byMRN.ID, "the old MRN finds the kept record")
	page, err := f.svc.List(f.ctx, Filter{Q: "Lopez"})
	require.NoError(t, err)
	assert.Equal(t, 1, page.Total, "the tombstone is in no list")
	assert.Equal(t, 1, f.svc.Count())

	h, err := f.svc.History(f.ctx, keep.ID)
	require.NoError(t, err)
	assert.Len(t, h.StatusChanges, 3, "the kept patient's history holds both records' status changes")
	assert.Contains(t, actionsOf(h), "merge")
	assert.Equal(t, []string{"doc-from", "doc-shared"}, documentsOf(t, f.db, keep.ID))

	mk := eventsFor(f.aud, keep.ID, "patient.merge")
	mf := eventsFor(f.aud, from.ID, "patient.merged_into")
	require.Len(t, mk, 1)
	require.Len(t, mf, 1)
	assert.Contains(t, mk[0].Detail, "from="+from.ID)
	assert.Contains(t, mf[0].Detail, "into="+keep.ID)
	assertNoPHI(t, f.aud.Events(), keep, from)

	list, err := f.svc.Merges(f.ctx, from.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, res.Merge.ID, list[0].ID)

	// Merging the tombstone again, or into itself, is refused clearly.
	_, err = f.svc.Merge(f.ctx, keep.ID, from.ID)
	assert.ErrorIs(t, err, fault.ErrConflict)
	assert.Equal(t, "from_id", fieldOf(t, err))

	// Undo, 23 hours later.
	f.clock.Advance(23 * time.Hour)
	undo, err := f.svc.UndoMerge(f.ctx, keep.ID, "")
	require.NoError(t, err)
	assert.Equal(t, res.Merge.ID, undo.Merge.ID)
	assert.False(t, undo.Merge.Undoable)
	require.NotNil(t, undo.Merge.UndoneAt)
	back, err := f.svc.Get(f.ctx, from.ID)
	require.NoError(t, err)
	assert.Equal(t, "", back.MergedInto)
	assert.Equal(t, StatusActive, back.Status)
	assert.Equal(t, fromIn.Identifiers, back.Identifiers)
	kept, err := f.svc.Get(f.ctx, keep.ID)
	require.NoError(t, err)
	assert.Equal(t, keepIn.Identifiers, kept.Identifiers)
	assert.Equal(t, []string{"doc-from", "doc-shared"}, documentsOf(t, f.db, from.ID))
	assert.Equal(t, []string{"doc-shared"}, documentsOf(t, f.db, keep.ID))
	hf, err := f.svc.History(f.ctx, from.ID)
	require.NoError(t, err)
	assert.Len(t, hf.StatusChanges, 2)
	assert.Contains(t, actionsOf(hf), "unmerge")
	hk, err := f.svc.History(f.ctx, keep.ID)
	require.NoError(t, err)
	assert.Len(t, hk.StatusChanges, 1)
	assert.Len(t, eventsFor(f.aud, keep.ID, "patient.unmerge"), 1)
	assert.Len(t, eventsFor(f.aud, from.ID, "patient.unmerge"), 1)
	page, err = f.svc.List(f.ctx, Filter{Q: "Lopez"})
	require.NoError(t, err)
	assert.Equal(t, 2, page.Total)

	// Undone once is undone.
	_, err = f.svc.UndoMerge(f.ctx, keep.ID, res.Merge.ID)
	assert.ErrorIs(t, err, ErrMergeUndone)
	_, err = f.svc.UndoMerge(f.ctx, keep.ID, "")
	assert.ErrorIs(t, err, fault.ErrNotFound)

	// The restored record can be merged and edited again.
	_, err = f.svc.Update(f.ctx, back.ID, back.Version, Patch{FirstName: ptr("Mara")})
	require.NoError(t, err)
}

func actionsOf(h History) []string {
	var out []string
	for _, c := range h.Changes {
		out = append(out, c.Action)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// TestMergeUndoExpires: after 24 hours the undo is refused with a reason.
func TestMergeUndoExpires(t *testing.T) {
	f := newFixture(t)
	keep := f.create(t, input("MRN-E1", "Ann", "Lee"))
	from := f.create(t, input("MRN-E2", "Anne", "Lee"))
	res, err := f.svc.Merge(f.ctx, keep.ID, from.ID)
	require.NoError(t, err)
	f.clock.Advance(UndoWindow)
	list, err := f.svc.Merges(f.ctx, keep.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.False(t, list[0].Undoable)
	_, err = f.svc.UndoMerge(f.ctx, keep.ID, res.Merge.ID)
	require.ErrorIs(t, err, ErrMergeUndoExpired)
	assert.ErrorIs(t, err, fault.ErrConflict)
	assert.Contains(t, err.Error(), "more than 24 hours ago")
	_, err = f.svc.Get(f.ctx, from.ID)
	_, merged := IsMerged(err)
	assert.True(t, merged, "a refused undo changes nothing")
	ev, ok := f.aud.Last("patient.unmerge")
	require.True(t, ok)
	assert.Equal(t, audit.OutcomeFailure, ev.Outcome)
}

func TestMergeRefusals(t *testing.T) {
	f := newFixture(t)
	a := f.create(t, input("MRN-R1", "Ann", "Lee"))
	b := f.create(t, input("MRN-R2", "Bob", "Ray"))
	c := f.create(t, input("MRN-R3", "Cy", "Po"))
	_, err := f.svc.Merge(f.ctx, a.ID, c.ID)
	require.NoError(t, err)
	cases := []struct {
		name       string
		ctx        context.Context
		keep, from string
		kind       error
		field      string
	}{
		{"no from_id", f.ctx, a.ID, " ", fault.ErrInvalid, "from_id"},
		{"into itself", f.ctx, a.ID, a.ID, fault.ErrInvalid, "from_id"},
		{"unknown from", f.ctx, a.ID, "p_none", fault.ErrInvalid, "from_id"},
		{"unknown keep", f.ctx, "p_none", b.ID, fault.ErrNotFound, ""},
		{"keep is a tombstone", f.ctx, c.ID, b.ID, fault.ErrNotFound, ""},
		{"auditor", patienttest.As(context.Background(), actor.RoleAuditor), a.ID, b.ID, fault.ErrForbidden, ""},
		{"provider", patienttest.As(context.Background(), actor.RoleProvider), a.ID, b.ID, fault.ErrForbidden, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Merge(tc.ctx, tc.keep, tc.from)
			require.ErrorIs(t, err, tc.kind)
			if tc.field != "" {
				assert.Equal(t, tc.field, fieldOf(t, err))
			}
		})
	}
	_, err = f.svc.Merge(f.ctx, c.ID, b.ID)
	into, _ := IsMerged(err)
	assert.Equal(t, a.ID, into)
	_, err = f.svc.UndoMerge(f.ctx, a.ID, "not a key!")
	assert.Equal(t, "merge_id", fieldOf(t, err))
	_, err = f.svc.UndoMerge(f.ctx, b.ID, "m_none")
	assert.ErrorIs(t, err, fault.ErrNotFound)
	_, err = f.svc.Merges(f.ctx, "p_none")
	assert.ErrorIs(t, err, fault.ErrNotFound)
	_, err = f.svc.UndoMerge(f.ctx, "p_none", "")
	assert.ErrorIs(t, err, fault.ErrNotFound)
	_, err = f.svc.UndoMerge(patienttest.As(context.Background(), actor.RoleAuditor), a.ID, "")
	assert.ErrorIs(t, err, fault.ErrForbidden)
	_, err = f.svc.Merges(patienttest.As(context.Background(), actor.RoleAuditor), a.ID)
	assert.ErrorIs(t, err, fault.ErrForbidden)
	// An undo naming another patient's merge is refused.
	f.clock.Advance(time.Minute)
	other, err := f.svc.Merge(f.ctx, b.ID, a.ID)
	require.NoError(t, err)
	m, err := f.svc.Merges(f.ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, m, 2)
	require.Equal(t, a.ID, m[1].KeepID, "newest first")
	_, err = f.svc.UndoMerge(f.ctx, b.ID, m[1].ID)
	assert.Equal(t, "merge_id", fieldOf(t, err))
	// Undoing an older merge whose kept record was merged on is refused.
	_, err = f.svc.UndoMerge(f.ctx, a.ID, "")
	assert.ErrorIs(t, err, fault.ErrNotFound)
	_, err = f.svc.UndoMerge(f.ctx, b.ID, other.Merge.ID)
	require.NoError(t, err)
	_, err = f.svc.UndoMerge(f.ctx, a.ID, "")
	require.NoError(t, err)
	assert.Equal(t, 3, f.svc.Count())
}

// TestMergeSeenByOtherInstance: a second service on the same database
// learns of a merge and its undo through the live queries, and a fresh
// load keeps the tombstone out of the lists.
func TestMergeSeenByOtherInstance(t *testing.T) {
	a := newFixture(t)
	b := newFixtureOn(t, a.db)
	keep := a.create(t, input("MRN-T1", "Ann", "Lee"))
	from := a.create(t, input("MRN-T2", "Anne", "Lee"))
	eventually := func(cond func() bool, what string) {
		t.Helper()
		require.Eventually(t, cond, 2*time.Minute, 20*time.Millisecond, what)
	}
	eventually(func() bool { return b.svc.Count() == 2 }, "creates")
	_, err := a.svc.Merge(a.ctx, keep.ID, from.ID)
	require.NoError(t, err)
	eventually(func() bool {
		_, err := b.svc.Get(b.ctx, from.ID)
		into, merged := IsMerged(err)
		return merged && into == keep.ID && b.svc.Count() == 1
	}, "merge")
	got, err := b.svc.Get(b.ctx, keep.ID)
	require.NoError(t, err)
	assert.Len(t, got.Identifiers, 1)

	c := newFixtureOn(t, a.db, WithoutLive())
	assert.Equal(t, 1, c.svc.Count(), "a fresh load keeps the tombstone out")
	_, err = c.svc.Get(c.ctx, from.ID)
	_, merged := IsMerged(err)
	assert.True(t, merged)

	_, err = b.svc.UndoMerge(b.ctx, keep.ID, "")
	require.NoError(t, err)
	eventually(func() bool {
		got, err := a.svc.Get(a.ctx, from.ID)
		return err == nil && got.MergedInto == "" && a.svc.Count() == 2
	}, "undo")
	assert.False(t, errors.Is(err, ErrNotFound))
}
