package review

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Auditor stores audit events; *audit.Log implements it.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Errors callers decide on.
var (
	ErrNotFound    = fault.New(fault.ErrNotFound, "no review item with this id")
	ErrResolved    = fault.New(fault.ErrConflict, "this review item was resolved already")
	ErrNotAllowed  = fault.New(fault.ErrForbidden, "your role may not review patient identities")
	ErrNotSignedIn = fault.New(fault.ErrUnauthorized, "sign in first")
)

// claimTTL is how long a resolve may hold an item; an item claimed
// longer ago (its resolver died) can be claimed again.
const claimTTL = 5 * time.Minute

// Queue stores review items in SurrealDB. Safe for concurrent use; any
// number of core instances may share one database.
type Queue struct {
	db  *store.DB
	aud Auditor
}

// NewQueue returns the queue on db.
func NewQueue(db *store.DB, aud Auditor) *Queue { return &Queue{db: db, aud: aud} }

// row is an item as stored.
type row struct {
	Item
	Key  string `json:"key"`
	Job  string `json:"job"`
	File string `json:"file"`
}

func (r row) item() Item {
	it := r.Item
	it.ID, it.JobID, it.FileID = r.Key, r.Job, r.File
	it.Document.MiddleNames = nonNil(it.Document.MiddleNames)
	it.PatientIDs = nonNil(it.PatientIDs)
	return it
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func itemID(key string) models.RecordID { return store.RecordID("review_item", key) }

// Add stores a new open item and returns its id. The caller (the
// importer, as the system or the importing user) is audited.
func (q *Queue) Add(ctx context.Context, it Item) (string, error) {
	const action = "review.add"
	if err := authorize(ctx, q.aud, action, ""); err != nil {
		return "", err
	}
	doc, err := docOf(it.Document)
	if err != nil {
		return "", fmt.Errorf("add review item: %w", err)
	}
	key := newKey()
	err = q.db.Exec(ctx, "CREATE $id CONTENT $it RETURN NONE", map[string]any{"id": itemID(key), "it": map[string]any{
		"status": StatusOpen, "reason": it.Reason, "message": it.Message, "source": it.Source, "job": it.JobID,
		"file": it.FileID, "format": it.Format, "record": it.Record, "document": doc, "patient_ids": nonNil(it.PatientIDs),
		"created_at": models.CustomDateTime{Time: time.Now().UTC()},
	}})
	if err != nil {
		err = fmt.Errorf("add review item: %w", err)
	}
	if aerr := record(ctx, q.aud, action, key, outcomeOf(err), "reason="+it.Reason); aerr != nil {
		return "", aerr
	}
	if err != nil {
		return "", err
	}
	return key, nil
}

// docOf turns the demographics into a database object (JSON names).
func docOf(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// open returns the unresolved items, oldest first (no audit: callers do).
func (q *Queue) open(ctx context.Context, limit int) ([]Item, error) {
	rows, err := store.Query[[]row](ctx, q.db, `SELECT *, record::id(id) AS key FROM review_item
		WHERE status != 'resolved' ORDER BY created_at ASC LIMIT $n`, map[string]any{"n": limit})
	if err != nil {
		return nil, fmt.Errorf("list review items: %w", err)
	}
	out := make([]Item, len(rows))
	for i, r := range rows {
		out[i] = r.item()
	}
	return out, nil
}

// get returns one item (no audit: callers do).
func (q *Queue) get(ctx context.Context, key string) (Item, error) {
	rows, err := store.Query[[]row](ctx, q.db, "SELECT *, record::id(id) AS key FROM $id", map[string]any{"id": itemID(key)})
	if err != nil {
		return Item{}, fmt.Errorf("read review item: %w", err)
	}
	if len(rows) == 0 {
		return Item{}, fmt.Errorf("read review item: %w", ErrNotFound)
	}
	return rows[0].item(), nil
}

// claim marks an open item (or one whose claim expired) as being
// resolved, so two reviewers never apply one document twice.
func (q *Queue) claim(ctx context.Context, key string) error {
	keys, err := store.Query[[]string](ctx, q.db, `UPDATE $id SET status = 'resolving', claimed_at = time::now()
		WHERE status = 'open' OR (status = 'resolving' AND claimed_at < $cutoff) RETURN VALUE record::id(id)`,
		map[string]any{"id": itemID(key), "cutoff": models.CustomDateTime{Time: time.Now().UTC().Add(-claimTTL)}})
	if err != nil {
		return fmt.Errorf("claim review item: %w", err)
	}
	if len(keys) == 0 {
		return fmt.Errorf("claim review item: %w", ErrResolved)
	}
	return nil
}

// release gives a claimed item back (the resolution failed).
func (q *Queue) release(ctx context.Context, key string) error {
	if err := q.db.Exec(ctx, "UPDATE $id SET status = 'open', claimed_at = NONE WHERE status = 'resolving'",
		map[string]any{"id": itemID(key)}); err != nil {
		return fmt.Errorf("release review item: %w", err)
	}
	return nil
}

// finish records the decision on a claimed item.
func (q *Queue) finish(ctx context.Context, key, action, patientID string) error {
	err := q.db.Exec(ctx, `UPDATE $id SET status = 'resolved', action = $action, patient_id = $pid,
		resolved_by = $by, resolved_at = time::now()`, map[string]any{
		"id": itemID(key), "action": action, "pid": patientID, "by": actor.From(ctx).UserID})
	if err != nil {
		return fmt.Errorf("resolve review item: %w", err)
	}
	return nil
}

// refusal says why a may not use the queue, or nil: admins, staff and
// the system (imports) may.
func refusal(a actor.Actor) error {
	switch {
	case a.Anonymous():
		return ErrNotSignedIn
	case a.Role == actor.RoleAdmin || a.Role == actor.RoleStaff || a.Role == actor.RoleSystem:
		return nil
	}
	return ErrNotAllowed
}

// authorize refuses whom refusal names, auditing the refusal.
func authorize(ctx context.Context, aud Auditor, action, key string) error {
	err := refusal(actor.From(ctx))
	if err == nil {
		return nil
	}
	if aerr := record(ctx, aud, action, key, audit.OutcomeDenied, ""); aerr != nil {
		return aerr
	}
	return fmt.Errorf("%s: %w", action, err)
}

// record stores one audit event (ids, codes and counts only).
func record(ctx context.Context, aud Auditor, action, key, outcome, detail string) error {
	a := actor.From(ctx)
	e := audit.Event{At: time.Now().UTC(), Actor: a.UserID, Role: string(a.Role), Action: action, Resource: "review_item",
		Record: key, Outcome: outcome, RequestID: a.RequestID, IP: a.IP, Detail: detail}
	if err := aud.Record(ctx, e); err != nil {
		return fmt.Errorf("%s: audit: %w", action, err)
	}
	return nil
}

func outcomeOf(err error) string {
	if err == nil {
		return audit.OutcomeSuccess
	}
	return audit.OutcomeFailure
}

// newKey returns 16 random lowercase base-32 characters.
func newKey() string { return strings.ToLower(rand.Text()[:16]) }
