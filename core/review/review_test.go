package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

func TestMain(m *testing.M) {
	if err := importertest.Build(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(storetest.Main(m))
}

func as(r actor.Role) context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: "user_" + string(r), Role: r, RequestID: "req"})
}

type fixture struct {
	env *importertest.Env
	q   *review.Queue
	svc *review.Service
	rec *importertest.Recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := importertest.New(t, storetest.New(t), nil, importer.Options{})
	rec := env.Audit.(*importertest.Recorder)
	q := review.NewQueue(env.DB, rec)
	return &fixture{env: env, q: q, svc: review.New(q, env.Patients, env.Imports), rec: rec}
}

func (f *fixture) add(t *testing.T, it review.Item) string {
	t.Helper()
	id, err := f.q.Add(as(actor.RoleSystem), it)
	require.NoError(t, err)
	return id
}

var ada = patient.Input{FirstName: "Ada", LastName: "Lovelace", DateOfBirth: "1915-12-10", Sex: "female", Source: "import:ada.xml",
	Identifiers: []patient.Identifier{{System: "urn:oid:1.2.3", Value: "A-1"}}}

func TestQueueAndCandidates(t *testing.T) {
	f := newFixture(t)
	held, err := f.env.Patients.Create(as(actor.RoleStaff), patient.Input{MRN: "H-1", FirstName: "Ada", LastName: "Lovelase", DateOfBirth: "1915-12-10", Sex: "female"})
	require.NoError(t, err)
	other, err := f.env.Patients.Create(as(actor.RoleStaff), patient.Input{MRN: "H-2", FirstName: "Bob", LastName: "Builder", DateOfBirth: "1960-01-01", Sex: "male"})
	require.NoError(t, err)
	gone, err := f.env.Patients.Create(as(actor.RoleStaff), patient.Input{MRN: "H-3", FirstName: "Gone", LastName: "Away", Sex: "male"})
	require.NoError(t, err)
	require.NoError(t, f.env.Patients.Delete(as(actor.RoleAdmin), gone.ID, gone.Version))

	// The identifier points at Bob (and at a deleted patient): he is a
	// candidate whatever his score; Ada's look-alike comes first.
	id := f.add(t, review.Item{Reason: review.ReasonIdentifierCollision, Message: "m", Source: ada.Source, Format: "fhir-xml",
		Document: ada, PatientIDs: []string{other.ID, gone.ID}})
	list, err := f.svc.List(as(actor.RoleStaff), 0)
	require.NoError(t, err)
	require.Len(t, list, 1)
	e := list[0]
	assert.Equal(t, id, e.ID)
	assert.Equal(t, review.StatusOpen, e.Status)
	assert.Equal(t, "Lovelace", e.Document.LastName)
	assert.Equal(t, ada.Identifiers, e.Document.Identifiers)
	require.Len(t, e.Candidates, 2, "the deleted patient is left out")
	assert.Equal(t, held.ID, e.Candidates[0].ID)
	assert.Equal(t, "Lovelase", e.Candidates[0].Patient.LastName)
	assert.Equal(t, other.ID, e.Candidates[1].ID)
	assert.Less(t, e.Candidates[1].Score, patient.DuplicateThreshold)

	one, err := f.svc.Get(as(actor.RoleAdmin), id)
	require.NoError(t, err)
	assert.Equal(t, e.Candidates, one.Candidates)
	_, err = f.svc.Get(as(actor.RoleStaff), "nosuch")
	assert.ErrorIs(t, err, review.ErrNotFound)

	// Roles: auditors and anonymous callers are refused, and audited.
	for _, ctx := range []context.Context{as(actor.RoleAuditor), context.Background()} {
		_, err = f.svc.List(ctx, 0)
		assert.True(t, errorsIsAny(err, fault.ErrForbidden, fault.ErrUnauthorized), "%v", err)
		_, err = f.svc.Get(ctx, id)
		assert.Error(t, err)
		_, err = f.svc.Resolve(ctx, id, review.ActionReject, "")
		assert.Error(t, err)
		_, err = f.q.Add(ctx, review.Item{Reason: review.ReasonNoIdentifier})
		assert.Error(t, err)
	}
	ev, ok := f.rec.Last("review.list")
	require.True(t, ok)
	assert.Equal(t, "denied", ev.Outcome)

	// The audit trail names items and counts, never the demographics.
	for _, ev := range f.rec.Events() {
		b, _ := json.Marshal(ev)
		for _, v := range []string{"Ada", "Lovelace", "1915", "A-1", "ada.xml"} {
			assert.NotContains(t, string(b), v, ev.Action)
		}
	}
}

func errorsIsAny(err error, kinds ...error) bool {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

func TestResolve(t *testing.T) {
	f := newFixture(t)
	staff := as(actor.RoleStaff)
	held, err := f.env.Patients.Create(staff, patient.Input{MRN: "H-1", FirstName: "Ada", LastName: "King", DateOfBirth: "1915-12-10", Sex: "female"})
	require.NoError(t, err)

	t.Run("bad requests leave the item open", func(t *testing.T) {
		id := f.add(t, review.Item{Reason: review.ReasonNoIdentifier, Document: ada})
		_, err := f.svc.Resolve(staff, id, "perhaps", "")
		assert.ErrorIs(t, err, fault.ErrInvalid)
		ev, _ := f.rec.Last("review.resolve")
		assert.Equal(t, "action=invalid", ev.Detail, "free text never reaches the audit trail")
		_, err = f.svc.Resolve(staff, id, review.ActionSame, " ")
		assert.ErrorIs(t, err, fault.ErrInvalid)
		_, err = f.svc.Resolve(staff, id, review.ActionSame, "p_nobody")
		assert.ErrorIs(t, err, fault.ErrNotFound)
		_, err = f.svc.Resolve(staff, "nosuch", review.ActionReject, "")
		assert.ErrorIs(t, err, review.ErrNotFound)
		it, err := f.svc.Get(staff, id)
		require.NoError(t, err)
		assert.Equal(t, review.StatusOpen, it.Status)
		_, err = f.svc.Resolve(staff, id, review.ActionReject, "")
		require.NoError(t, err)
	})

	t.Run("same applies the document and adds its identifiers", func(t *testing.T) {
		id := f.add(t, review.Item{Reason: review.ReasonLikelyDuplicate, Document: ada, PatientIDs: []string{held.ID}})
		it, err := f.svc.Resolve(staff, id, " MERGE ", held.ID)
		require.NoError(t, err)
		assert.Equal(t, review.ActionSame, it.Action)
		assert.Equal(t, held.ID, it.PatientID)
		assert.Equal(t, "user_staff", it.ResolvedBy)
		require.NotNil(t, it.ResolvedAt)
		p, err := f.env.Patients.Get(staff, held.ID)
		require.NoError(t, err)
		assert.Equal(t, "Lovelace", p.LastName)
		assert.Contains(t, p.Identifiers, ada.Identifiers[0])
		ev, _ := f.rec.Last("review.resolve")
		assert.Equal(t, "action=same patient="+held.ID, ev.Detail)
		_, err = f.svc.Resolve(staff, id, review.ActionReject, "")
		assert.ErrorIs(t, err, review.ErrResolved)
	})

	t.Run("new creates a patient with a practice MRN", func(t *testing.T) {
		n := f.env.Patients.Count()
		doc := ada
		doc.FirstName, doc.LastName, doc.DateOfBirth = "Grace", "Hopper", "1906-12-09"
		id := f.add(t, review.Item{Reason: review.ReasonNoIdentifier, Document: doc})
		it, err := f.svc.Resolve(as(actor.RoleAdmin), id, review.ActionNew, "ignored")
		require.NoError(t, err)
		p, err := f.env.Patients.Get(staff, it.PatientID)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(p.MRN, "PF-"))
		assert.Equal(t, n+1, f.env.Patients.Count())
	})

	t.Run("a new patient without a first name is refused and the item stays open", func(t *testing.T) {
		doc := ada
		doc.FirstName = ""
		id := f.add(t, review.Item{Reason: review.ReasonMissingName, Document: doc})
		_, err := f.svc.Resolve(staff, id, review.ActionNew, "")
		assert.ErrorIs(t, err, fault.ErrInvalid)
		it, err := f.svc.Get(staff, id)
		require.NoError(t, err)
		assert.Equal(t, review.StatusOpen, it.Status, "released for another decision")
		// It can still be applied to a patient we have.
		_, err = f.svc.Resolve(staff, id, review.ActionSame, held.ID)
		require.NoError(t, err)
	})

	t.Run("a claim whose resolver died can be taken again", func(t *testing.T) {
		id := f.add(t, review.Item{Reason: review.ReasonNoIdentifier, Document: ada})
		set := func(at time.Time) {
			require.NoError(t, f.env.DB.Exec(context.Background(), "UPDATE $id SET status = 'resolving', claimed_at = $at",
				map[string]any{"id": store.RecordID("review_item", id), "at": models.CustomDateTime{Time: at}}))
		}
		set(time.Now().UTC())
		_, err := f.svc.Resolve(staff, id, review.ActionReject, "")
		assert.ErrorIs(t, err, review.ErrResolved, "claimed by someone else just now")
		set(time.Now().UTC().Add(-time.Hour))
		it, err := f.svc.Resolve(staff, id, review.ActionReject, "")
		require.NoError(t, err)
		assert.Equal(t, review.StatusResolved, it.Status)
	})

	list, err := f.svc.List(staff, 500)
	require.NoError(t, err)
	assert.Empty(t, list)
}

// TestAuditDown: without an audit trail nothing is read or changed.
func TestAuditDown(t *testing.T) {
	f := newFixture(t)
	id := f.add(t, review.Item{Reason: review.ReasonNoIdentifier, Document: ada})
	f.rec.SetFailing(true)
	_, err := f.svc.List(as(actor.RoleStaff), 0)
	assert.Error(t, err)
	_, err = f.svc.Get(as(actor.RoleStaff), id)
	assert.Error(t, err)
	_, err = f.svc.Resolve(as(actor.RoleStaff), id, review.ActionReject, "")
	assert.Error(t, err)
	_, err = f.q.Add(as(actor.RoleSystem), review.Item{Reason: review.ReasonNoIdentifier, Document: ada})
	assert.Error(t, err)
	_, err = f.svc.List(as(actor.RoleAuditor), 0)
	assert.Error(t, err)
	f.rec.SetFailing(false)
	list, err := f.svc.List(as(actor.RoleStaff), 0)
	require.NoError(t, err)
	// As with patient writes, a change commits before its audit event:
	// the reject stands, the item added meanwhile is there; both callers
	// were told of the failure.
	require.Len(t, list, 1)
	assert.NotEqual(t, id, list[0].ID)
}
