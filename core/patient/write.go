package patient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// maxReason bounds a status change reason.
const maxReason = 500

// staleMarker is THROWn by a transaction whose conditional update found
// another version.
const staleMarker = "pfinni:stale"

func (s *Service) validation() validation {
	return validation{now: s.now(), provider: s.providerExists}
}

func (s *Service) providerExists(id string) bool {
	ok := false
	s.dir.read(func(st *state) { _, ok = st.providers[id] })
	return ok
}

// mrnTaken reports whether another patient than id holds mrn.
func (s *Service) mrnTaken(mrn, id string) bool {
	taken := false
	s.dir.read(func(st *state) {
		other, ok := st.byMRN[mrn]
		taken = ok && other != id
	})
	return taken
}

// current returns the held record of id (not a copy: do not modify).
func (s *Service) current(id string) (*Patient, bool) {
	var p *Patient
	s.dir.read(func(st *state) {
		if e := st.byID[id]; e != nil {
			p = e.p
		}
	})
	return p, p != nil
}

// Create validates in, stores a new patient (version 1, status
// onboarding unless given) with its first history rows, and returns it.
func (s *Service) Create(ctx context.Context, in Input) (*Patient, error) {
	const action = "patient.create"
	if err := s.authorize(ctx, action, "patient", "", false); err != nil {
		return nil, err
	}
	p, err := s.create(ctx, in)
	id := ""
	if p != nil {
		id = p.ID
	}
	if err := s.finish(ctx, action, "patient", id, "", err); err != nil {
		return nil, err
	}
	s.notify(ctx, Committed{Action: CommittedCreate, PatientID: p.ID, Version: p.Version})
	return p.clone(), nil
}

// precheck is what create refuses before writing: the panel, the
// fields, a taken MRN.
func (s *Service) precheck(ctx context.Context, in Input) error {
	_, err := s.prepared(ctx, in)
	return err
}

// prepared is the new patient of in with its defaults, once it passed
// precheck.
func (s *Service) prepared(ctx context.Context, in Input) (*Patient, error) {
	p := in.patient()
	s.defaults(p)
	if err := s.ownPanel(ctx, p); err != nil {
		return nil, err
	}
	if err := s.validation().check(p, func(string) bool { return true }); err != nil {
		return nil, fmt.Errorf("create patient: %w", err)
	}
	if s.mrnTaken(p.MRN, "") {
		return nil, fieldErr("create patient", ErrDuplicateMRN, "mrn", "another patient already has this MRN")
	}
	return p, nil
}

func (s *Service) create(ctx context.Context, in Input) (*Patient, error) {
	p, err := s.prepared(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.insert(ctx, p)
}

// insert stores p, a prepared new patient, as version 1 with its first
// history rows.
func (s *Service) insert(ctx context.Context, p *Patient) (*Patient, error) {
	now := s.opt.now().UTC()
	p.ID = newID("p_")
	p.Version = 1
	p.CreatedAt, p.UpdatedAt, p.StatusChangedAt = now, now, now
	who := actor.From(ctx).UserID
	sc := StatusChange{PatientID: p.ID, From: "", To: p.Status, Reason: "created", Actor: who, At: now}
	h := Change{PatientID: p.ID, Version: 1, Action: "create", Fields: setFields(p), Actor: who, Source: p.Source, At: now}
	err := s.db.Exec(ctx, `BEGIN;
CREATE $rid CONTENT $p RETURN NONE;
CREATE status_change CONTENT $sc RETURN NONE;
CREATE patient_history CONTENT $h RETURN NONE;
COMMIT;`, map[string]any{"rid": store.RecordID("patient", p.ID), "p": p.doc(), "sc": sc.doc(), "h": h.doc()})
	if err != nil {
		return nil, s.dbErr("create patient", err)
	}
	s.dir.upsert(p)
	return p, nil
}

// defaults fills what a new record may leave empty.
func (s *Service) defaults(p *Patient) {
	if p.Status == "" {
		p.Status = StatusOnboarding
	}
	if p.Sex == "" {
		p.Sex = "unknown"
	}
	if p.Source == "" {
		p.Source = "manual"
	}
	p.MRN = strings.TrimSpace(p.MRN)
	p.normalize()
}

// dbErr maps database errors of a write.
func (s *Service) dbErr(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return fieldErr(op, ErrDuplicateMRN, "mrn", "another patient already has this MRN")
	case store.IsThrown(err, staleMarker):
		return fieldErr(op, ErrStaleVersion, "version", "the patient was changed since you read it; reload it and try again")
	}
	return fmt.Errorf("%s: %w", op, err)
}

// setFields names the fields of a new record that have a value.
func setFields(p *Patient) []string {
	b, _ := json.Marshal(p)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	var out []string
	for k, v := range m {
		switch k {
		case "id", "version", "created_at", "updated_at", "status_changed_at":
			continue
		}
		switch x := v.(type) {
		case string:
			if x == "" {
				continue
			}
		case []any:
			if len(x) == 0 {
				continue
			}
		case map[string]any:
			if !slices.ContainsFunc(mapValues(x), func(v any) bool { return v != "" }) {
				continue
			}
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func mapValues(m map[string]any) []any {
	out := make([]any, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Update applies a partial change to patient id, which the caller read
// at version. A stale version is refused (409) so no change is lost.
func (s *Service) Update(ctx context.Context, id string, version int, patch Patch) (*Patient, error) {
	const action = "patient.update"
	if err := s.authorize(ctx, action, "patient", id, false); err != nil {
		return nil, err
	}
	p, changed, err := s.update(ctx, id, version, patch)
	detail := "fields=" + strings.Join(changed, ",")
	if err := s.finish(ctx, action, "patient", id, detail, err); err != nil {
		return nil, err
	}
	if len(changed) > 0 {
		s.notify(ctx, Committed{Action: CommittedUpdate, PatientID: id, Version: p.Version, Fields: changed})
	}
	return p.clone(), nil
}

func (s *Service) update(ctx context.Context, id string, version int, patch Patch) (*Patient, []string, error) {
	const op = "update patient"
	if patch.Status != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, fault.Field("status", "change the status through the workflow: POST /api/v1/patients/{id}/status"))
	}
	if patch.Version != nil {
		if version != 0 && version != *patch.Version {
			return nil, nil, fmt.Errorf("%s: %w", op, fault.Field("version", "the body and If-Match name different versions"))
		}
		version = *patch.Version
	}
	if version <= 0 {
		return nil, nil, fmt.Errorf("%s: %w", op, fault.Field("version", "is required: send the version you read (field version or If-Match header)"))
	}
	cur, ok := s.open(ctx, id)
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if cur.Version != version {
		return nil, nil, fieldErr(op, ErrStaleVersion, "version", fmt.Sprintf("the patient is at version %d; reload it and try again", cur.Version))
	}
	next, changed := patch.apply(cur)
	if len(changed) == 0 {
		return cur, nil, nil
	}
	touched := func(f string) bool { return slices.Contains(changed, f) }
	if err := s.validation().check(next, touched); err != nil {
		return nil, changed, fmt.Errorf("%s: %w", op, err)
	}
	if touched("mrn") && s.mrnTaken(next.MRN, id) {
		return nil, changed, fieldErr(op, ErrDuplicateMRN, "mrn", "another patient already has this MRN")
	}
	now := s.opt.now().UTC()
	next.Version = version + 1
	next.UpdatedAt = now
	merge := map[string]any{"version": next.Version, "updated_at": dbTime(now)}
	doc := docOf(next)
	for _, f := range changed {
		top, _, _ := strings.Cut(f, ".")
		merge[top] = doc[top]
	}
	who := actor.From(ctx)
	h := Change{PatientID: id, Version: next.Version, Action: "update", Fields: changed, Actor: who.UserID, Source: sourceOf(who), At: now}
	err := s.db.Exec(ctx, `BEGIN;
LET $u = (UPDATE $rid MERGE $patch WHERE version = $v RETURN AFTER);
IF array::len($u) = 0 { THROW "`+staleMarker+`" };
CREATE patient_history CONTENT $h RETURN NONE;
COMMIT;`, map[string]any{"rid": store.RecordID("patient", id), "patch": merge, "v": version, "h": h.doc()})
	if err != nil {
		return nil, changed, s.dbErr(op, err)
	}
	s.dir.upsert(next)
	return next, changed, nil
}

// docOf returns p's fields by JSON name (values as the database takes them).
func docOf(p *Patient) map[string]any {
	return map[string]any{
		"mrn": p.MRN, "first_name": p.FirstName, "middle_names": p.MiddleNames, "last_name": p.LastName,
		"preferred_name": p.PreferredName, "date_of_birth": p.DateOfBirth, "sex": p.Sex, "phone": p.Phone,
		"email": p.Email, "address": p.Address, "language": p.Language, "marital_status": p.MaritalStatus,
		"race": p.Race, "ethnicity": p.Ethnicity, "provider_id": p.ProviderID, "insurance": p.Insurance,
		"identifiers": p.Identifiers, "tags": p.Tags, "source": p.Source,
	}
}

// sourceOf names where a change came from: the CLI/system or a user.
func sourceOf(a actor.Actor) string {
	if a.Role == actor.RoleSystem {
		return "system"
	}
	return "user"
}

// ChangeStatus moves patient id to status to, following the workflow
// (see Transitions). Churn and re-activation need a reason. version, when
// not 0, is the version the caller read. The status_change row is written
// in the same transaction as the patient.
func (s *Service) ChangeStatus(ctx context.Context, id string, to Status, reason string, version int) (*Patient, error) {
	const action = "patient.status_change"
	if err := s.authorize(ctx, action, "patient", id, false); err != nil {
		return nil, err
	}
	p, from, err := s.changeStatus(ctx, id, to, reason, version)
	detail := ""
	if from != "" && to.Valid() {
		detail = string(from) + "->" + string(to)
	}
	if err := s.finish(ctx, action, "patient", id, detail, err); err != nil {
		return nil, err
	}
	if from != to {
		s.notify(ctx, Committed{Action: CommittedStatus, PatientID: id, Version: p.Version, From: from, To: to})
	}
	return p.clone(), nil
}

func (s *Service) changeStatus(ctx context.Context, id string, to Status, reason string, version int) (*Patient, Status, error) {
	const op = "change patient status"
	if !to.Valid() {
		return nil, "", fmt.Errorf("%s: %w", op, fault.Field("to", "must be one of onboarding, active, inactive, churned"))
	}
	cur, ok := s.open(ctx, id)
	if !ok {
		return nil, "", fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	from := cur.Status
	if version != 0 && cur.Version != version {
		return nil, from, fieldErr(op, ErrStaleVersion, "version", fmt.Sprintf("the patient is at version %d; reload it and try again", cur.Version))
	}
	rule, ok := transition(from, to)
	if !ok {
		return nil, from, fieldErr(op, ErrForbiddenTransition, "to",
			fmt.Sprintf("a patient in %s cannot move to %s; allowed: %s", from, to, joinStatuses(AllowedFrom(from))))
	}
	reason = strings.TrimSpace(reason)
	switch {
	case rule.ReasonRequired && reason == "":
		return nil, from, fmt.Errorf("%s: %w", op, fault.Field("reason", fmt.Sprintf("is required when moving from %s to %s", from, to)))
	case len(reason) > maxReason:
		return nil, from, fmt.Errorf("%s: %w", op, fault.Field("reason", fmt.Sprintf("must be at most %d characters", maxReason)))
	}
	now := s.opt.now().UTC()
	next := cur.clone()
	next.Status, next.StatusChangedAt, next.UpdatedAt, next.Version = to, now, now, cur.Version+1
	who := actor.From(ctx)
	sc := StatusChange{PatientID: id, From: from, To: to, Reason: reason, Actor: who.UserID, At: now}
	h := Change{PatientID: id, Version: next.Version, Action: "status", Fields: []string{"status"}, Actor: who.UserID, Source: sourceOf(who), At: now}
	merge := map[string]any{"status": to, "status_changed_at": dbTime(now), "updated_at": dbTime(now), "version": next.Version}
	err := s.db.Exec(ctx, `BEGIN;
LET $u = (UPDATE $rid MERGE $patch WHERE version = $v RETURN AFTER);
IF array::len($u) = 0 { THROW "`+staleMarker+`" };
CREATE status_change CONTENT $sc RETURN NONE;
CREATE patient_history CONTENT $h RETURN NONE;
COMMIT;`, map[string]any{"rid": store.RecordID("patient", id), "patch": merge, "v": cur.Version, "sc": sc.doc(), "h": h.doc()})
	if err != nil {
		return nil, from, s.dbErr(op, err)
	}
	s.dir.upsert(next)
	s.dir.addTransition(sc)
	return next, from, nil
}

// Delete removes patient id (admin only). version, when not 0, is the
// version the caller read. Its history rows are kept.
func (s *Service) Delete(ctx context.Context, id string, version int) error {
	const action = "patient.delete"
	if err := s.authorize(ctx, action, "patient", id, true); err != nil {
		return err
	}
	if err := s.finish(ctx, action, "patient", id, "", s.delete(ctx, id, version)); err != nil {
		return err
	}
	s.notify(ctx, Committed{Action: CommittedDelete, PatientID: id})
	return nil
}

func (s *Service) delete(ctx context.Context, id string, version int) error {
	const op = "delete patient"
	cur, ok := s.current(id)
	if !ok {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if version != 0 && cur.Version != version {
		return fieldErr(op, ErrStaleVersion, "version", fmt.Sprintf("the patient is at version %d; reload it and try again", cur.Version))
	}
	who := actor.From(ctx)
	now := s.opt.now().UTC()
	h := Change{PatientID: id, Version: cur.Version + 1, Action: "delete", Fields: []string{}, Actor: who.UserID, Source: sourceOf(who), At: now}
	err := s.db.Exec(ctx, `BEGIN;
LET $d = (DELETE $rid WHERE version = $v RETURN BEFORE);
IF array::len($d) = 0 { THROW "`+staleMarker+`" };
CREATE patient_history CONTENT $h RETURN NONE;
COMMIT;`, map[string]any{"rid": store.RecordID("patient", id), "v": cur.Version, "h": h.doc()})
	if err != nil {
		return s.dbErr(op, err)
	}
	s.dir.remove(id)
	return nil
}
