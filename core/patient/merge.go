package patient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Merging two records of one person. The kept patient receives the other
// record's identifiers (and its MRN, as an identifier of MergedMRNSystem),
// its kept documents, its status and change history and its eligibility
// checks; the other record stays in the database as a tombstone
// (merged_into = the kept id) that the directory never lists, so its id
// answers "merged into …" and its MRN is never given to someone else.
// Every moved row is named in the patient_merge record, so an undo within
// UndoWindow moves exactly those rows back. Audit events are immutable:
// instead of rewriting them, both records' trails get an event naming the
// other id (patient.merge on the kept one, patient.merged_into on the
// other; and patient.unmerge on both for an undo).

// UndoWindow is how long a merge can be undone.
const UndoWindow = 24 * time.Hour

// MergedMRNSystem is the identifier system under which a merged-away
// record's MRN is kept on the surviving patient.
const MergedMRNSystem = "urn:pfinni:mrn"

// ErrMergeUndoExpired: the merge is older than UndoWindow (409).
var ErrMergeUndoExpired = fault.New(fault.ErrConflict,
	"this merge was made more than 24 hours ago and can no longer be undone; correct the record by hand instead")

// ErrMergeUndone: the merge was undone already (409).
var ErrMergeUndone = fault.New(fault.ErrConflict, "this merge has already been undone")

// MergedError is the answer for a record that was merged into another:
// it wraps ErrNotFound (the record is no longer a patient) and names
// where the person's record now is.
type MergedError struct {
	ID   string // the merged-away record
	Into string // the patient it was merged into
}

func (e *MergedError) Error() string {
	return fmt.Sprintf("patient %s was merged into patient %s", e.ID, e.Into)
}

// Unwrap makes a MergedError a not-found error.
func (e *MergedError) Unwrap() error { return ErrNotFound }

// Merge is one merge of a patient record into another (ids only: no PHI).
type Merge struct {
	ID        string     `json:"id"`
	KeepID    string     `json:"keep_id"`
	FromID    string     `json:"from_id"`
	Actor     string     `json:"actor"`
	At        time.Time  `json:"at"`
	UndoUntil time.Time  `json:"undo_until"`
	Undoable  bool       `json:"undoable"`
	UndoneAt  *time.Time `json:"undone_at,omitempty"`
	UndoneBy  string     `json:"undone_by,omitempty"`
	Moved     MergeMoved `json:"moved"`
}

// MergeMoved counts what a merge moved to the kept patient.
type MergeMoved struct {
	Identifiers   int `json:"identifiers"`
	Documents     int `json:"documents"`
	StatusChanges int `json:"status_changes"`
	Changes       int `json:"changes"`
	Eligibility   int `json:"eligibility_checks"`
}

// MergeResult is what Merge and UndoMerge return: the merge and the
// patients as they are afterwards (From is the tombstone after a merge
// and the restored patient after an undo).
type MergeResult struct {
	Merge Merge    `json:"merge"`
	Keep  *Patient `json:"patient"`
	From  *Patient `json:"from"`
}

// mergeRow is a patient_merge record as stored.
type mergeRow struct {
	ID         string            `json:"id"`
	KeepID     string            `json:"keep_id"`
	FromID     string            `json:"from_id"`
	Actor      string            `json:"actor"`
	At         time.Time         `json:"at"`
	UndoneAt   *time.Time        `json:"undone_at"`
	UndoneBy   string            `json:"undone_by"`
	AddedIDs   []Identifier      `json:"added_identifiers"`
	StatusRows []models.RecordID `json:"moved_status_changes"`
	ChangeRows []models.RecordID `json:"moved_changes"`
	DocRows    []models.RecordID `json:"moved_documents"`
	EligRows   []models.RecordID `json:"moved_eligibility"`
}

func (r mergeRow) merge(now time.Time) Merge {
	m := Merge{ID: r.ID, KeepID: r.KeepID, FromID: r.FromID, Actor: r.Actor, At: r.At.UTC(),
		UndoUntil: r.At.UTC().Add(UndoWindow), UndoneBy: r.UndoneBy,
		Moved: MergeMoved{Identifiers: len(r.AddedIDs), Documents: len(r.DocRows), StatusChanges: len(r.StatusRows),
			Changes: len(r.ChangeRows), Eligibility: len(r.EligRows)}}
	if r.UndoneAt != nil {
		t := r.UndoneAt.UTC()
		m.UndoneAt = &t
	}
	m.Undoable = m.UndoneAt == nil && now.Before(m.UndoUntil)
	return m
}

// ErrMergeNotAllowed: merging is for staff and admins (a provider works
// within their panel and does not merge records).
var ErrMergeNotAllowed = fault.New(fault.ErrForbidden, "only staff and admins may merge patient records")

// authorizeMerge is authorize for merges and their undo, which providers
// may not do.
func (s *Service) authorizeMerge(ctx context.Context, action, record string) error {
	return s.authorizeStaffWork(ctx, action, "patient", record, ErrMergeNotAllowed)
}

// mergedInto reports where id was merged into, if it is a tombstone.
func (s *Service) mergedInto(id string) (string, bool) {
	into := ""
	s.dir.read(func(st *state) {
		if m := st.merged[id]; m != nil {
			into = m.MergedInto
		}
	})
	return into, into != ""
}

// notFoundOrMerged is the error for an id the directory does not list.
func (s *Service) notFoundOrMerged(op, id string) error {
	if into, ok := s.mergedInto(id); ok {
		return fmt.Errorf("%s: %w", op, &MergedError{ID: id, Into: into})
	}
	return fmt.Errorf("%s: %w", op, ErrNotFound)
}

// Merge merges patient fromID into patient keepID (the same person
// recorded twice): see the comment at the top of merge.go. Both records'
// audit trails record it. The review queue and the API call it.
func (s *Service) Merge(ctx context.Context, keepID, fromID string) (*MergeResult, error) {
	const action = "patient.merge"
	if err := s.authorizeMerge(ctx, action, keepID); err != nil {
		return nil, err
	}
	res, err := s.merge(ctx, keepID, fromID)
	detail := "from=" + fromID
	if res != nil {
		detail += " merge=" + res.Merge.ID
	}
	if err := s.finish(ctx, action, "patient", keepID, detail, err); err != nil {
		return nil, err
	}
	if err := s.record(ctx, "patient.merged_into", "patient", fromID, outcomeOf(nil), "into="+keepID+" merge="+res.Merge.ID); err != nil {
		return nil, err
	}
	s.notify(ctx, Committed{Action: CommittedUpdate, PatientID: keepID, Version: res.Keep.Version, Fields: []string{"identifiers"}})
	s.notify(ctx, Committed{Action: CommittedDelete, PatientID: fromID})
	return res, nil
}

func (s *Service) merge(ctx context.Context, keepID, fromID string) (*MergeResult, error) {
	const op = "merge patients"
	fromID = strings.TrimSpace(fromID)
	switch {
	case fromID == "":
		return nil, fmt.Errorf("%s: %w", op, fault.Field("from_id", "is required: the id of the record to merge into this one"))
	case fromID == keepID:
		return nil, fmt.Errorf("%s: %w", op, fault.Field("from_id", "is this patient; choose the other record of the same person"))
	}
	keep, ok := s.current(keepID)
	if !ok {
		return nil, s.notFoundOrMerged(op, keepID)
	}
	from, ok := s.current(fromID)
	if !ok {
		if into, merged := s.mergedInto(fromID); merged {
			return nil, fieldErr(op, fault.ErrConflict, "from_id", "this record was already merged into patient "+into)
		}
		return nil, fmt.Errorf("%s: %w", op, fault.Field("from_id", "no patient has this id"))
	}
	now := s.opt.now().UTC()
	added := mergeIdentifiers(keep, from)
	nextKeep := keep.clone()
	nextKeep.Identifiers = append(nextKeep.Identifiers, added...)
	nextKeep.Version, nextKeep.UpdatedAt = keep.Version+1, now
	tomb := from.clone()
	tomb.MergedInto, tomb.Version, tomb.UpdatedAt = keepID, from.Version+1, now
	who := actor.From(ctx)
	mid := newID("m_")
	hk := Change{PatientID: keepID, Version: nextKeep.Version, Action: "merge", Fields: []string{"identifiers"}, Actor: who.UserID, Source: sourceOf(who), At: now}
	hf := Change{PatientID: fromID, Version: tomb.Version, Action: "merged_into", Fields: []string{"merged_into"}, Actor: who.UserID, Source: sourceOf(who), At: now}
	row := map[string]any{"keep_id": keepID, "from_id": fromID, "actor": who.UserID, "at": dbTime(now), "added_identifiers": added}
	err := s.db.Exec(ctx, `BEGIN;
LET $k = (UPDATE $keep MERGE $kpatch WHERE version = $kv RETURN AFTER);
IF array::len($k) = 0 { THROW "`+staleMarker+`" };
LET $f = (UPDATE $from MERGE $fpatch WHERE version = $fv RETURN AFTER);
IF array::len($f) = 0 { THROW "`+staleMarker+`" };
LET $sc = (UPDATE status_change SET patient_id = $keep_id WHERE patient_id = $from_id RETURN VALUE id);
LET $ph = (UPDATE patient_history SET patient_id = $keep_id WHERE patient_id = $from_id RETURN VALUE id);
LET $kd = (SELECT VALUE document FROM patient_document WHERE patient_id = $keep_id);
LET $pd = (UPDATE patient_document SET patient_id = $keep_id WHERE patient_id = $from_id AND document NOTINSIDE $kd RETURN VALUE id);
LET $el = (UPDATE eligibility_check SET patient = $keep_id WHERE patient = $from_id RETURN VALUE id);
CREATE $mid CONTENT object::extend($row, {moved_status_changes: $sc, moved_changes: $ph, moved_documents: $pd, moved_eligibility: $el}) RETURN NONE;
CREATE patient_history CONTENT $hk RETURN NONE;
CREATE patient_history CONTENT $hf RETURN NONE;
COMMIT;`, map[string]any{
		"keep": store.RecordID("patient", keepID), "from": store.RecordID("patient", fromID),
		"keep_id": keepID, "from_id": fromID, "kv": keep.Version, "fv": from.Version,
		"kpatch": map[string]any{"identifiers": nextKeep.Identifiers, "version": nextKeep.Version, "updated_at": dbTime(now)},
		"fpatch": map[string]any{"merged_into": keepID, "version": tomb.Version, "updated_at": dbTime(now)},
		"mid":    store.RecordID("patient_merge", mid), "row": row, "hk": hk.doc(), "hf": hf.doc(),
	})
	if err != nil {
		return nil, s.dbErr(op, err)
	}
	s.dir.upsert(nextKeep)
	s.dir.upsert(tomb)
	r, err := s.mergeRow(ctx, mid)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return &MergeResult{Merge: r.merge(now), Keep: nextKeep.clone(), From: tomb.clone()}, nil
}

// mergeIdentifiers returns from's identifiers (and its MRN) that keep
// does not hold yet, matched on system and value.
func mergeIdentifiers(keep, from *Patient) []Identifier {
	has := func(list []Identifier, id Identifier) bool {
		return slices.ContainsFunc(list, func(x Identifier) bool { return x.System == id.System && x.Value == id.Value })
	}
	cand := append(slices.Clone(from.Identifiers), Identifier{System: MergedMRNSystem, Value: from.MRN, Type: "MR"})
	out := []Identifier{}
	for _, id := range cand {
		if id.Value == "" || has(keep.Identifiers, id) || has(out, id) {
			continue
		}
		out = append(out, id)
	}
	return out
}

// mergeRow reads one patient_merge record.
func (s *Service) mergeRow(ctx context.Context, mid string) (mergeRow, error) {
	rows, err := store.Query[[]mergeRow](ctx, s.db, "SELECT *, record::id(id) AS id FROM $mid", map[string]any{"mid": store.RecordID("patient_merge", mid)})
	if err != nil {
		return mergeRow{}, fmt.Errorf("read merge: %w", err)
	}
	if len(rows) == 0 {
		return mergeRow{}, fmt.Errorf("read merge: %w", fault.New(fault.ErrNotFound, "no such merge"))
	}
	return rows[0], nil
}

// Merges lists the merges into or out of patient id, newest first (ids
// and times only), for the patient page's undo banner.
func (s *Service) Merges(ctx context.Context, id string) ([]Merge, error) {
	const action = "patient.merges"
	if err := s.authorize(ctx, action, "patient", id, false); err != nil {
		return nil, err
	}
	out, err := s.merges(ctx, id)
	if err := s.finish(ctx, action, "patient", id, "", err); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) merges(ctx context.Context, id string) ([]Merge, error) {
	if _, ok := s.current(id); !ok {
		if _, merged := s.mergedInto(id); !merged {
			return nil, fmt.Errorf("list merges: %w", ErrNotFound)
		}
	}
	rows, err := store.Query[[]mergeRow](ctx, s.db,
		"SELECT *, record::id(id) AS id FROM patient_merge WHERE keep_id = $id OR from_id = $id ORDER BY at DESC", map[string]any{"id": id})
	if err != nil {
		return nil, fmt.Errorf("list merges: %w", err)
	}
	now := s.opt.now().UTC()
	out := make([]Merge, len(rows))
	for i, r := range rows {
		out[i] = r.merge(now)
	}
	return out, nil
}

// UndoMerge undoes merge mergeID into patient keepID ("" undoes the
// newest merge into it that is not undone): the tombstone becomes a
// patient again, the identifiers the merge added leave the kept patient
// and every moved row goes back. Refused after UndoWindow.
func (s *Service) UndoMerge(ctx context.Context, keepID, mergeID string) (*MergeResult, error) {
	const action = "patient.unmerge"
	if err := s.authorizeMerge(ctx, action, keepID); err != nil {
		return nil, err
	}
	res, err := s.undoMerge(ctx, keepID, mergeID)
	detail := "merge=" + mergeID
	if res != nil {
		detail = "from=" + res.Merge.FromID + " merge=" + res.Merge.ID
	}
	if err := s.finish(ctx, action, "patient", keepID, detail, err); err != nil {
		return nil, err
	}
	if err := s.record(ctx, action, "patient", res.Merge.FromID, outcomeOf(nil), "into="+keepID+" merge="+res.Merge.ID); err != nil {
		return nil, err
	}
	s.notify(ctx, Committed{Action: CommittedUpdate, PatientID: keepID, Version: res.Keep.Version, Fields: []string{"identifiers"}})
	s.notify(ctx, Committed{Action: CommittedCreate, PatientID: res.From.ID, Version: res.From.Version})
	return res, nil
}

// findUndoable picks the merge to undo.
func (s *Service) findUndoable(ctx context.Context, keepID, mergeID string) (mergeRow, error) {
	if mergeID != "" {
		if !safeKey.MatchString(mergeID) {
			return mergeRow{}, fault.Field("merge_id", "is not a merge id")
		}
		r, err := s.mergeRow(ctx, mergeID)
		if err != nil {
			return mergeRow{}, err
		}
		if r.KeepID != keepID {
			return mergeRow{}, fault.Field("merge_id", "is not a merge into this patient")
		}
		return r, nil
	}
	rows, err := store.Query[[]mergeRow](ctx, s.db,
		"SELECT *, record::id(id) AS id FROM patient_merge WHERE keep_id = $id AND undone_at = NONE ORDER BY at DESC LIMIT 1", map[string]any{"id": keepID})
	if err != nil {
		return mergeRow{}, fmt.Errorf("find merge: %w", err)
	}
	if len(rows) == 0 {
		return mergeRow{}, fault.New(fault.ErrNotFound, "no merge into this patient to undo")
	}
	return rows[0], nil
}

func (s *Service) undoMerge(ctx context.Context, keepID, mergeID string) (*MergeResult, error) {
	const op = "undo merge"
	keep, ok := s.current(keepID)
	if !ok {
		return nil, s.notFoundOrMerged(op, keepID)
	}
	r, err := s.findUndoable(ctx, keepID, mergeID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	now := s.opt.now().UTC()
	switch {
	case r.UndoneAt != nil:
		return nil, fmt.Errorf("%s: %w", op, ErrMergeUndone)
	case !now.Before(r.At.Add(UndoWindow)):
		return nil, fmt.Errorf("%s: %w", op, ErrMergeUndoExpired)
	}
	var tomb *Patient
	s.dir.read(func(st *state) { tomb = st.merged[r.FromID] })
	if tomb == nil || tomb.MergedInto != keepID {
		return nil, fmt.Errorf("%s: %w", op, fault.New(fault.ErrConflict, "the merged record has changed since; it cannot be restored"))
	}
	nextKeep := keep.clone()
	nextKeep.Identifiers = slices.DeleteFunc(nextKeep.Identifiers, func(x Identifier) bool {
		return slices.ContainsFunc(r.AddedIDs, func(a Identifier) bool { return a.System == x.System && a.Value == x.Value })
	})
	nextKeep.Version, nextKeep.UpdatedAt = keep.Version+1, now
	back := tomb.clone()
	back.MergedInto, back.Version, back.UpdatedAt = "", tomb.Version+1, now
	who := actor.From(ctx)
	hk := Change{PatientID: keepID, Version: nextKeep.Version, Action: "unmerge", Fields: []string{"identifiers"}, Actor: who.UserID, Source: sourceOf(who), At: now}
	hf := Change{PatientID: back.ID, Version: back.Version, Action: "unmerge", Fields: []string{"merged_into"}, Actor: who.UserID, Source: sourceOf(who), At: now}
	err = s.db.Exec(ctx, `BEGIN;
LET $m = (UPDATE $mid SET undone_at = $now, undone_by = $who WHERE undone_at = NONE RETURN AFTER);
IF array::len($m) = 0 { THROW "`+undoneMarker+`" };
LET $k = (UPDATE $keep MERGE $kpatch WHERE version = $kv RETURN AFTER);
IF array::len($k) = 0 { THROW "`+staleMarker+`" };
LET $f = (UPDATE $from MERGE $fpatch WHERE version = $fv RETURN AFTER);
IF array::len($f) = 0 { THROW "`+staleMarker+`" };
IF array::len($sc) > 0 { UPDATE $sc SET patient_id = $from_id RETURN NONE };
IF array::len($ph) > 0 { UPDATE $ph SET patient_id = $from_id RETURN NONE };
IF array::len($pd) > 0 { UPDATE $pd SET patient_id = $from_id RETURN NONE };
IF array::len($el) > 0 { UPDATE $el SET patient = $from_id RETURN NONE };
CREATE patient_history CONTENT $hk RETURN NONE;
CREATE patient_history CONTENT $hf RETURN NONE;
COMMIT;`, map[string]any{
		"mid": store.RecordID("patient_merge", r.ID), "now": dbTime(now), "who": who.UserID,
		"keep": store.RecordID("patient", keepID), "from": store.RecordID("patient", back.ID), "from_id": back.ID,
		"kv": keep.Version, "fv": tomb.Version,
		"kpatch": map[string]any{"identifiers": nextKeep.Identifiers, "version": nextKeep.Version, "updated_at": dbTime(now)},
		"fpatch": map[string]any{"merged_into": "", "version": back.Version, "updated_at": dbTime(now)},
		"sc":     nonNil(r.StatusRows), "ph": nonNil(r.ChangeRows), "pd": nonNil(r.DocRows), "el": nonNil(r.EligRows),
		"hk": hk.doc(), "hf": hf.doc(),
	})
	if err != nil {
		if store.IsThrown(err, undoneMarker) {
			return nil, fmt.Errorf("%s: %w", op, ErrMergeUndone)
		}
		return nil, s.dbErr(op, err)
	}
	s.dir.upsert(nextKeep)
	s.dir.upsert(back)
	r.UndoneAt, r.UndoneBy = &now, who.UserID
	return &MergeResult{Merge: r.merge(now), Keep: nextKeep.clone(), From: back.clone()}, nil
}

// undoneMarker is THROWn when the merge was undone meanwhile.
const undoneMarker = "pfinni:merge_undone"

func nonNil(ids []models.RecordID) []models.RecordID {
	if ids == nil {
		return []models.RecordID{}
	}
	return ids
}

// IsMerged reports whether err says the record was merged, and into what.
func IsMerged(err error) (string, bool) {
	var me *MergedError
	if errors.As(err, &me) {
		return me.Into, true
	}
	return "", false
}
