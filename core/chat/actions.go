package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/sdk"
)

// Action types the panel knows (sdk/chat.go).
const (
	ActionNavigate    = sdk.ActionNavigate    // open a page (with filters); client side
	ActionSetStatus   = sdk.ActionSetStatus   // change patients' status; confirmed, run here
	ActionStartImport = sdk.ActionStartImport // open the import page; admins
	ActionStartTour   = sdk.ActionStartTour   // start or resume the welcome tour; client side
)

// TargetSelection is the set_status target an intent plugin gives to
// mean "the patients ticked on the page" (context.selection).
const TargetSelection = "selection"

// actionRoles are the roles that may be offered (and run) each action
// type; types not listed are open to every signed-in user.
var actionRoles = map[string][]actor.Role{
	ActionSetStatus:        {actor.RoleAdmin, actor.RoleStaff, actor.RoleProvider},
	ActionCheckEligibility: {actor.RoleAdmin, actor.RoleStaff},
	ActionStartImport:      {actor.RoleAdmin},
}

// runsOnServer lists the action types that run on the server when the
// user confirms or presses them, and what a refused role is told it
// cannot do.
var runsOnServer = map[string]string{ActionSetStatus: "make that change", ActionCheckEligibility: "check insurance eligibility"}

// ErrActionGone: the action does not exist for this user, was already
// used, or expired.
var ErrActionGone = fault.New(fault.ErrNotFound, "this action is no longer available; ask again")

// actionRow is the chat_action table's shape. Params is the JSON of
// statusOffer: typed values and record ids, never a reason.
type actionRow struct {
	User      string                `json:"user"`
	Type      string                `json:"type"`
	Target    string                `json:"target"`
	Params    string                `json:"params"`
	State     string                `json:"state"`
	ExpiresAt models.CustomDateTime `json:"expires_at"`
}

// statusOffer is what a set_status action will do: move each patient,
// from the status and at the version the user was shown, to To.
type statusOffer struct {
	To       patient.Status `json:"to"`
	Patients []offered      `json:"patients"`
}

type offered struct {
	ID      string         `json:"id"`
	From    patient.Status `json:"from"`
	Version int            `json:"version"`
}

// offerActions drops actions the panel cannot draw or the user's role may
// not run (saying so politely) and turns the data-changing ones into
// offers the server composed and registered, which need a confirmation.
func (s *Service) offerActions(ctx context.Context, a actor.Actor, req Request, r *Reply) error {
	var keep []Action
	refusedChange, refusedNav := "", false
	var notes []string
	for _, act := range r.Actions {
		if !slices.Contains(sdk.ChatActionTypes(), act.Type) {
			continue
		}
		if roles, ok := actionRoles[act.Type]; ok && !slices.Contains(roles, a.Role) {
			if what, ok := runsOnServer[act.Type]; ok {
				refusedChange = what
			} else {
				refusedNav = true
			}
			continue
		}
		switch act.Type {
		case ActionSetStatus:
			offer, note, err := s.composeStatusOffer(ctx, req, act)
			if err != nil {
				return err
			}
			if offer == nil {
				r.Reply = note
				if r.Data != nil {
					delete(r.Data, "patients")
					delete(r.Data, "total")
				}
				continue
			}
			if note != "" {
				notes = append(notes, note)
			}
			target := ""
			if len(offer.Patients) == 1 {
				target = offer.Patients[0].ID
			}
			id, err := s.registerAction(ctx, a, act.Type, target, offer)
			if err != nil {
				return err
			}
			act = offer.action(id)
			r.Data = mergeData(r.Data, offer.patientData())
			r.Reply = offer.question()
		case ActionCheckEligibility:
			offer, note, alt, err := s.composeEligibilityOffer(ctx, act)
			if err != nil {
				return err
			}
			if offer == nil {
				r.Reply = note
				if r.Data != nil {
					delete(r.Data, "patients")
					delete(r.Data, "total")
				}
				keep = append(keep, alt...)
				continue
			}
			id, err := s.registerAction(ctx, a, act.Type, offer.Patient, offer)
			if err != nil {
				return err
			}
			act = offer.action(id)
			r.Data = mergeData(r.Data, offer.patientData())
			r.Reply = eligibilityQuestion
		case ActionNavigate, ActionStartImport:
			if act.Target = navTarget(act.Target); act.Target == "" {
				continue
			}
		}
		keep = append(keep, act)
	}
	r.Actions = keep
	switch {
	case refusedChange != "":
		// The whole reply was an offer to run something on the server:
		// refuse politely.
		r.Reply = fmt.Sprintf("I'm sorry, your role (%s) can't %s, so I haven't offered it. An admin or staff member can do it.", a.Role, refusedChange)
		if r.Data != nil {
			delete(r.Data, "patients")
		}
		r.Intent = IntentForbidden
	case refusedNav:
		r.Reply += fmt.Sprintf(" (That page needs an admin; your role is %s.)", a.Role)
	}
	if len(notes) > 0 && refusedChange == "" {
		r.Reply = strings.TrimSpace(r.Reply + " " + strings.Join(notes, " "))
	}
	return nil
}

// mergeData adds d's keys to data (a new map when data is nil).
func mergeData(data, d map[string]any) map[string]any {
	if data == nil {
		return d
	}
	for k, v := range d {
		data[k] = v
	}
	return data
}

// navTarget is a plugin's navigation target as offered: an app path with
// one leading slash, or "" (dropped).
func navTarget(t string) string {
	if !strings.HasPrefix(t, "/") || strings.HasPrefix(t, "//") || strings.ContainsAny(t, "\\\r\n\t") {
		return ""
	}
	return t
}

// composeStatusOffer builds a set_status offer from the server's own data:
// the patients (the one the plugin named, or exactly the ticked ones),
// each read as the user (so the read is authorised and audited), with the
// status and version shown now. Patients already in the new status or
// whose status cannot move there are left out, and a note says so. A nil
// offer means there is nothing to confirm.
func (s *Service) composeStatusOffer(ctx context.Context, req Request, act Action) (*statusOffer, string, error) {
	to, _ := act.Params["to"].(string)
	if !patient.Status(to).Valid() {
		return nil, "", nil
	}
	ids := []string{act.Target}
	if act.Target == TargetSelection {
		ids = nil
		for _, id := range req.Context.Selection {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	offer := &statusOffer{To: patient.Status(to)}
	var already, blocked, missing int
	for _, id := range ids {
		if id == "" {
			continue
		}
		p, err := s.d.Patients.Get(ctx, id)
		switch {
		case errors.Is(err, patient.ErrNotFound):
			missing++
			continue
		case err != nil:
			return nil, "", fmt.Errorf("offer status change: %w", err)
		case p.Status == offer.To:
			already++
			continue
		case !slices.Contains(patient.AllowedFrom(p.Status), offer.To):
			blocked++
			continue
		}
		offer.Patients = append(offer.Patients, offered{ID: p.ID, From: p.Status, Version: p.Version})
	}
	var notes []string
	if already > 0 {
		notes = append(notes, fmt.Sprintf("%d already %s.", already, to))
	}
	if blocked > 0 {
		notes = append(notes, fmt.Sprintf("%d cannot move to %s from their status.", blocked, to))
	}
	if missing > 0 {
		notes = append(notes, fmt.Sprintf("%d could not be found.", missing))
	}
	note := strings.Join(notes, " ")
	if len(offer.Patients) == 0 {
		if note == "" {
			note = "There is no patient to change."
		}
		return nil, "Nothing to change: " + note, nil
	}
	return offer, note, nil
}

// reasonRequired reports whether any move of the offer needs a reason.
func (o *statusOffer) reasonRequired() bool {
	for _, p := range o.Patients {
		for _, t := range patient.Transitions() {
			if t.From == p.From && t.To == o.To && t.ReasonRequired {
				return true
			}
		}
	}
	return false
}

// moves describes where the patients come from: "active" or
// "2 active, 1 onboarding".
func (o *statusOffer) moves() string {
	count := map[patient.Status]int{}
	for _, p := range o.Patients {
		count[p.From]++
	}
	if len(count) == 1 {
		return string(o.Patients[0].From)
	}
	var froms []string
	for st, n := range count {
		froms = append(froms, fmt.Sprintf("%d %s", n, st))
	}
	sort.Strings(froms)
	return strings.Join(froms, ", ")
}

// label is the confirm button's text, composed by the server from the
// type, the patients and the statuses (a plugin cannot word it).
func (o *statusOffer) label() string {
	if len(o.Patients) == 1 {
		return fmt.Sprintf("Change this patient from %s to %s", o.Patients[0].From, o.To)
	}
	count := map[patient.Status]int{}
	for _, p := range o.Patients {
		count[p.From]++
	}
	if len(count) == 1 {
		return fmt.Sprintf("Change %d patients from %s to %s", len(o.Patients), o.moves(), o.To)
	}
	return fmt.Sprintf("Change %d patients (%s) to %s", len(o.Patients), o.moves(), o.To)
}

func (o *statusOffer) question() string {
	q := o.label() + "? Please confirm."
	if o.reasonRequired() {
		q += " A reason is required for this change; you will be asked for it."
	}
	return q
}

// action is the offer as the panel gets it.
func (o *statusOffer) action(id string) Action {
	pats := make([]map[string]any, len(o.Patients))
	for i, p := range o.Patients {
		pats[i] = map[string]any{"ref": "patient:" + p.ID, "from": string(p.From), "version": p.Version}
	}
	a := Action{ID: id, Type: ActionSetStatus, Label: o.label(), Confirm: true,
		Params: map[string]any{"to": string(o.To), "patients": pats, "reason_required": o.reasonRequired()}}
	if len(o.Patients) == 1 {
		a.Target = o.Patients[0].ID
	}
	return a
}

func (o *statusOffer) patientData() map[string]any {
	refs := make([]map[string]string, len(o.Patients))
	for i, p := range o.Patients {
		refs[i] = map[string]string{"ref": "patient:" + p.ID, "id": p.ID}
	}
	return map[string]any{"patients": refs, "total": len(o.Patients)}
}

// registerAction keeps an offer on the server (chat_action) for the
// user to confirm or press: its type, target record id and parameters
// (record ids and typed values only). It returns the action's id.
func (s *Service) registerAction(ctx context.Context, a actor.Actor, typ, target string, offer any) (string, error) {
	id := newID()
	params, err := json.Marshal(offer)
	if err != nil {
		return "", fmt.Errorf("offer chat action: %w", err)
	}
	row := actionRow{User: a.UserID, Type: typ, Target: target, Params: string(params), State: "pending", ExpiresAt: dbTime(s.now().Add(s.o.ActionTTL))}
	err = s.d.DB.Exec(ctx, "CREATE $rid CONTENT $row RETURN NONE", map[string]any{"rid": store.RecordID("chat_action", id), "row": row})
	if err != nil {
		return "", fmt.Errorf("offer chat action: %w", err)
	}
	return id, nil
}

// ConfirmRequest completes an action: Reason is required for changes
// that need one (churn, re-activation). It is passed to the patient
// service and kept in the patient's status history, never in the chat.
type ConfirmRequest struct {
	Reason string `json:"reason"`
}

// Confirm runs a pending action of the caller, once, through the same
// service (and so the same role checks and audit) as the page would, and
// answers like a chat reply: a status change, or an eligibility check
// (confirmEligibility) whose answer is the check's result. Unknown, used or expired actions and
// actions of other users are ErrActionGone. Every patient is changed at
// the version the user was shown: when any of them changed since the
// offer, nothing is changed and the error is a conflict
// (patient.ErrStaleVersion).
func (s *Service) Confirm(ctx context.Context, id string, in ConfirmRequest) (Reply, error) {
	a := actor.From(ctx)
	if a.Anonymous() {
		return Reply{}, errSignIn
	}
	if !recordKey(id) || id == "" {
		return Reply{}, ErrActionGone
	}
	// Claim it: only a pending, unexpired action of this user moves to done.
	rows, err := store.Query[[]actionRow](ctx, s.d.DB,
		"UPDATE $rid SET state = 'done' WHERE user = $user AND state = 'pending' AND expires_at > $now RETURN BEFORE",
		map[string]any{"rid": store.RecordID("chat_action", id), "user": a.UserID, "now": dbTime(s.now())})
	if err != nil {
		return Reply{}, fmt.Errorf("confirm chat action: %w", err)
	}
	if len(rows) == 0 {
		return Reply{}, ErrActionGone
	}
	act := rows[0]
	if roles, ok := actionRoles[act.Type]; ok && !slices.Contains(roles, a.Role) {
		s.finishAction(ctx, id, "failed")
		return Reply{}, fault.Newf(fault.ErrForbidden, "your role (%s) can't do this", a.Role)
	}
	if act.Type == ActionCheckEligibility {
		return s.confirmEligibility(ctx, a, id, act)
	}
	if act.Type != ActionSetStatus {
		s.finishAction(ctx, id, "failed")
		return Reply{}, fault.Newf(fault.ErrInvalid, "action type %q cannot be confirmed", act.Type)
	}
	var offer statusOffer
	if err := json.Unmarshal([]byte(act.Params), &offer); err != nil || len(offer.Patients) == 0 {
		s.finishAction(ctx, id, "failed")
		return Reply{}, fault.New(fault.ErrInvalid, "this action cannot be run; ask again")
	}
	if offer.reasonRequired() && strings.TrimSpace(in.Reason) == "" {
		// Not used up: the user may confirm again with a reason.
		s.finishAction(ctx, id, "pending")
		return Reply{}, fault.Field("reason", fmt.Sprintf("is required to move a patient to %s", offer.To))
	}
	// Every patient still as shown? Otherwise change nothing.
	for _, p := range offer.Patients {
		cur, err := s.d.Patients.Get(ctx, p.ID)
		if err != nil {
			s.finishAction(ctx, id, "failed")
			return Reply{}, fmt.Errorf("confirm status change: %w", err)
		}
		if cur.Version != p.Version {
			s.finishAction(ctx, id, "failed")
			return Reply{}, fmt.Errorf("confirm status change: %w", patient.ErrStaleVersion)
		}
	}
	changed := make([]map[string]string, 0, len(offer.Patients))
	for _, p := range offer.Patients {
		np, err := s.d.Patients.ChangeStatus(ctx, p.ID, offer.To, in.Reason, p.Version)
		if err != nil {
			s.finishAction(ctx, id, "failed")
			if len(changed) > 0 {
				return Reply{}, fmt.Errorf("confirm status change (%d of %d changed before this one failed): %w", len(changed), len(offer.Patients), err)
			}
			return Reply{}, fmt.Errorf("confirm status change: %w", err)
		}
		changed = append(changed, map[string]string{"ref": "patient:" + np.ID, "id": np.ID})
	}
	out := Reply{ID: newID(), At: s.stamp(), Intent: "action." + act.Type}
	if len(changed) == 1 {
		out.Reply = fmt.Sprintf("Done: the patient moved from %s to %s.", offer.Patients[0].From, offer.To)
		out.Actions = []Action{{Type: ActionNavigate, Label: "Open patient", Target: "/patients/" + offer.Patients[0].ID}}
	} else {
		out.Reply = fmt.Sprintf("Done: %d patients (%s) moved to %s.", len(changed), offer.moves(), offer.To)
		out.Actions = []Action{{Type: ActionNavigate, Label: "Open the " + string(offer.To) + " list", Target: "/patients?status=" + string(offer.To)}}
	}
	out.Data = map[string]any{"patients": changed, "total": len(changed)}
	confirmText := fmt.Sprintf("(confirmed: %s to %s)", act.Type, offer.To)
	if err := s.store(ctx, a, exchange{session: "default", userText: confirmText, trusted: true, reply: out}); err != nil {
		return Reply{}, err
	}
	return out, nil
}

// Cancel drops a pending action of the caller.
func (s *Service) Cancel(ctx context.Context, id string) error {
	a := actor.From(ctx)
	if a.Anonymous() {
		return errSignIn
	}
	if !recordKey(id) || id == "" {
		return ErrActionGone
	}
	rows, err := store.Query[[]actionRow](ctx, s.d.DB,
		"UPDATE $rid SET state = 'cancelled' WHERE user = $user AND state = 'pending' RETURN BEFORE",
		map[string]any{"rid": store.RecordID("chat_action", id), "user": a.UserID})
	if err != nil {
		return fmt.Errorf("cancel chat action: %w", err)
	}
	if len(rows) == 0 {
		return ErrActionGone
	}
	return nil
}

func (s *Service) finishAction(ctx context.Context, id, state string) {
	err := s.d.DB.Exec(ctx, "UPDATE $rid SET state = $state RETURN NONE", map[string]any{"rid": store.RecordID("chat_action", id), "state": state})
	if err != nil && !errors.Is(err, context.Canceled) {
		s.d.Logger.WarnContext(ctx, "mark chat action", "state", state, "err", err)
	}
}
