package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/surrealdb/surrealdb.go/pkg/models"
	"slices"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
)

// Action types the panel knows.
const (
	ActionNavigate    = "navigate"     // open a page (with filters); client side
	ActionSetStatus   = "set_status"   // change a patient's status; confirmed, run here
	ActionStartImport = "start_import" // open the import page; admins
	ActionStartTour   = "start_tour"   // start or resume the welcome tour; client side
)

// actionRoles are the roles that may be offered (and run) each action
// type; types not listed are open to every signed-in user.
var actionRoles = map[string][]actor.Role{
	ActionSetStatus:   {actor.RoleAdmin, actor.RoleStaff},
	ActionStartImport: {actor.RoleAdmin},
}

// changesData lists the action types that run on the server after the
// user confirms.
var changesData = map[string]bool{ActionSetStatus: true}

// ErrActionGone: the action does not exist for this user, was already
// used, or expired.
var ErrActionGone = fault.New(fault.ErrNotFound, "this action is no longer available; ask again")

// actionRow is the chat_action table's shape.
type actionRow struct {
	User      string                `json:"user"`
	Type      string                `json:"type"`
	Target    string                `json:"target"`
	Params    string                `json:"params"`
	State     string                `json:"state"`
	ExpiresAt models.CustomDateTime `json:"expires_at"`
}

// offerActions removes actions the user's role may not run (saying so
// politely) and registers the data-changing ones, which then need a
// confirmation.
func (s *Service) offerActions(ctx context.Context, a actor.Actor, r *Reply) error {
	var keep []Action
	refusedChange, refusedNav := false, false
	for _, act := range r.Actions {
		if roles, ok := actionRoles[act.Type]; ok && !slices.Contains(roles, a.Role) {
			if changesData[act.Type] {
				refusedChange = true
			} else {
				refusedNav = true
			}
			continue
		}
		if changesData[act.Type] {
			id, err := s.registerAction(ctx, a, act)
			if err != nil {
				return err
			}
			act.ID, act.Confirm = id, true
		}
		keep = append(keep, act)
	}
	r.Actions = keep
	switch {
	case refusedChange:
		// The whole reply was an offer to change data: refuse politely.
		r.Reply = fmt.Sprintf("I'm sorry, your role (%s) can't make that change, so I haven't offered it. An admin or staff member can do it.", a.Role)
		if r.Data != nil {
			delete(r.Data, "patients")
		}
		r.Intent = IntentForbidden
	case refusedNav:
		r.Reply += fmt.Sprintf(" (That page needs an admin; your role is %s.)", a.Role)
	}
	return nil
}

func (s *Service) registerAction(ctx context.Context, a actor.Actor, act Action) (string, error) {
	id := newID()
	params, _ := json.Marshal(act.Params)
	row := actionRow{User: a.UserID, Type: act.Type, Target: act.Target, Params: string(params), State: "pending", ExpiresAt: dbTime(s.now().Add(s.o.ActionTTL))}
	err := s.d.DB.Exec(ctx, "CREATE $rid CONTENT $row RETURN NONE", map[string]any{"rid": store.RecordID("chat_action", id), "row": row})
	if err != nil {
		return "", fmt.Errorf("offer chat action: %w", err)
	}
	return id, nil
}

// ConfirmRequest completes an action: Reason is required for changes
// that need one (churn) when the message did not give it.
type ConfirmRequest struct {
	Reason string `json:"reason"`
}

// Confirm runs a pending action of the caller, once, through the same
// service (and so the same role checks and audit) as the page would, and
// answers like a chat reply. Unknown, used or expired actions and
// actions of other users are ErrActionGone.
func (s *Service) Confirm(ctx context.Context, id string, in ConfirmRequest) (Reply, error) {
	a := actor.From(ctx)
	if a.Anonymous() {
		return Reply{}, fault.New(fault.ErrUnauthorized, "sign in to use the assistant")
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
	var params map[string]any
	_ = json.Unmarshal([]byte(act.Params), &params)
	out := Reply{ID: newID(), At: s.now().UTC(), Intent: "action." + act.Type}
	switch act.Type {
	case ActionSetStatus:
		to, _ := params["to"].(string)
		reason, _ := params["reason"].(string)
		if in.Reason != "" {
			reason = in.Reason
		}
		p, err := s.d.Patients.ChangeStatus(ctx, act.Target, patient.Status(to), reason, 0)
		if err != nil {
			s.finishAction(ctx, id, "failed")
			return Reply{}, err
		}
		out.Reply = fmt.Sprintf("Done: the patient is now %s.", p.Status)
		out.Data = map[string]any{"patients": []map[string]string{{"id": p.ID, "mrn": p.MRN}}, "total": 1}
		out.Actions = []Action{{Type: ActionNavigate, Label: "Open patient", Target: "/patients/" + p.ID}}
		s.vocab.invalidate()
	default:
		s.finishAction(ctx, id, "failed")
		return Reply{}, fault.Newf(fault.ErrInvalid, "action type %q cannot be confirmed", act.Type)
	}
	if err := s.store(ctx, a, Request{Message: "(confirmed: " + act.Type + ")", Session: "default"}, out); err != nil {
		return Reply{}, err
	}
	return out, nil
}

// Cancel drops a pending action of the caller.
func (s *Service) Cancel(ctx context.Context, id string) error {
	a := actor.From(ctx)
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
