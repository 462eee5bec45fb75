package views

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Sentinel errors callers decide on (each wraps a fault kind, which the
// API maps to its status).
var (
	// ErrNotFound: no view with this id that the caller may see.
	ErrNotFound = fault.New(fault.ErrNotFound, "no saved view with this id")
	// ErrNotOwner: the caller sees the view but may not change it (403).
	ErrNotOwner = fault.New(fault.ErrForbidden, "only the owner of this view, or an admin for a shared view, may change or delete it")
	// ErrNotAllowed: the caller's role has no views (auditors).
	ErrNotAllowed = fault.New(fault.ErrForbidden, "your role has no saved views")
	// ErrNotSignedIn: nobody is signed in.
	ErrNotSignedIn = fault.New(fault.ErrUnauthorized, "sign in first")
)

// Auditor stores audit events (core/audit.Log).
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Service keeps saved views in SurrealDB.
type Service struct {
	db  *store.DB
	aud Auditor
	loc *time.Location
	now func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithLocation sets the practice's time zone, which date parameters of a
// query are read in (default time.Local).
func WithLocation(loc *time.Location) Option { return func(s *Service) { s.loc = loc } }

// New builds the service on db; aud records creates, changes and deletes.
func New(db *store.DB, aud Auditor, opts ...Option) *Service {
	s := &Service{db: db, aud: aud, loc: time.Local, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Location is the time zone the views' queries are read in.
func (s *Service) Location() *time.Location { return s.loc }

// row is a saved_view record as stored.
type row struct {
	ID        string    `json:"id"`
	Owner     string    `json:"owner_id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	Shared    bool      `json:"shared"`
	PinnedBy  []string  `json:"pinned_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// view is r as the caller a sees it.
func (r row) view(a actor.Actor) View {
	return View{ID: r.ID, Name: r.Name, Query: r.Query, Shared: r.Shared, OwnerID: r.Owner, Mine: r.Owner == a.UserID,
		CanEdit: canEdit(a, r), Pinned: slices.Contains(r.PinnedBy, a.UserID), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func canEdit(a actor.Actor, r row) bool {
	return r.Owner == a.UserID || (r.Shared && (a.Role == actor.RoleAdmin || a.Role == actor.RoleSystem))
}

// visible reports whether a may see r.
func visible(a actor.Actor, r row) bool { return r.Shared || r.Owner == a.UserID }

// caller returns the signed-in actor if their role has views.
func caller(ctx context.Context) (actor.Actor, error) {
	a := actor.From(ctx)
	switch {
	case a.Anonymous():
		return a, ErrNotSignedIn
	case !a.Role.ReadsPatients():
		return a, ErrNotAllowed
	}
	return a, nil
}

const selectRow = "SELECT *, record::id(id) AS id FROM saved_view"

// List returns the caller's own views and every shared view, by name.
func (s *Service) List(ctx context.Context) ([]View, error) {
	a, err := caller(ctx)
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	rows, err := store.Query[[]row](ctx, s.db, selectRow+" WHERE owner_id = $u OR shared = true", map[string]any{"u": a.UserID})
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	out := make([]View, len(rows))
	for i, r := range rows {
		out[i] = r.view(a)
	}
	slices.SortFunc(out, func(x, y View) int {
		if c := strings.Compare(nameKey(x.Name), nameKey(y.Name)); c != 0 {
			return c
		}
		if x.Mine != y.Mine { // the caller's own first
			if x.Mine {
				return -1
			}
			return 1
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out, nil
}

// Get returns view id if the caller may see it.
func (s *Service) Get(ctx context.Context, id string) (View, error) {
	a, err := caller(ctx)
	if err != nil {
		return View{}, fmt.Errorf("get view: %w", err)
	}
	r, err := s.visibleRow(ctx, a, id)
	if err != nil {
		return View{}, fmt.Errorf("get view: %w", err)
	}
	return r.view(a), nil
}

// FindByName returns the view the caller means by name: their own view
// of that name, else a shared one (names compare without case). The
// assistant's "show my view …" uses it.
func (s *Service) FindByName(ctx context.Context, name string) (View, error) {
	a, err := caller(ctx)
	if err != nil {
		return View{}, fmt.Errorf("find view: %w", err)
	}
	rows, err := store.Query[[]row](ctx, s.db, selectRow+" WHERE name_key = $k AND (owner_id = $u OR shared = true)",
		map[string]any{"k": nameKey(name), "u": a.UserID})
	if err != nil {
		return View{}, fmt.Errorf("find view: %w", err)
	}
	if len(rows) == 0 {
		return View{}, fmt.Errorf("find view: %w", ErrNotFound)
	}
	slices.SortFunc(rows, func(x, y row) int {
		switch {
		case x.Owner == a.UserID && y.Owner != a.UserID:
			return -1
		case y.Owner == a.UserID && x.Owner != a.UserID:
			return 1
		}
		return x.CreatedAt.Compare(y.CreatedAt)
	})
	return rows[0].view(a), nil
}

// Create stores a new view owned by the caller.
func (s *Service) Create(ctx context.Context, in Input) (View, error) {
	const action = "view.create"
	a, err := caller(ctx)
	if err != nil {
		return View{}, fmt.Errorf("create view: %w", err)
	}
	v, err := s.create(ctx, a, in)
	if err := s.audit(ctx, a, action, v.ID, "", err); err != nil {
		return View{}, err
	}
	return v, nil
}

func (s *Service) create(ctx context.Context, a actor.Actor, in Input) (View, error) {
	var errs fault.Fields
	name := cleanName(in.Name, &errs)
	q, qerr := CleanQuery(in.Query, s.loc)
	if qerr != nil {
		var fs fault.Fields
		if errors.As(qerr, &fs) {
			errs = append(errs, fs...)
		}
	}
	if err := errs.Err(); err != nil {
		return View{}, fmt.Errorf("create view: %w", err)
	}
	n, err := store.Query[[]int](ctx, s.db, "SELECT VALUE count() FROM saved_view WHERE owner_id = $u GROUP ALL", map[string]any{"u": a.UserID})
	if err != nil {
		return View{}, fmt.Errorf("create view: %w", err)
	}
	if len(n) > 0 && n[0] >= MaxPerUser {
		return View{}, fmt.Errorf("create view: %w", fault.Field("name", fmt.Sprintf("you have %d saved views, the most one person may keep; delete one first", MaxPerUser)))
	}
	now := s.now().UTC()
	r := row{ID: newID(), Owner: a.UserID, Name: name, Query: q, Shared: in.Shared, PinnedBy: []string{}, CreatedAt: now, UpdatedAt: now}
	if in.Pinned {
		r.PinnedBy = []string{a.UserID}
	}
	err = s.db.Exec(ctx, "CREATE $rid CONTENT $doc RETURN NONE", map[string]any{"rid": store.RecordID("saved_view", r.ID), "doc": r.doc()})
	if err != nil {
		return View{}, fmt.Errorf("create view: %w", nameTaken(err))
	}
	return r.view(a), nil
}

// nameTaken turns the unique index's refusal into a field error.
func nameTaken(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return errors.Join(fault.Field("name", "you already have a view with this name; choose another or change that one"), err)
	}
	return err
}

func (r row) doc() map[string]any {
	return map[string]any{"owner_id": r.Owner, "name": r.Name, "name_key": nameKey(r.Name), "query": r.Query, "shared": r.Shared,
		"pinned_by": r.PinnedBy, "created_at": models.CustomDateTime{Time: r.CreatedAt}, "updated_at": models.CustomDateTime{Time: r.UpdatedAt}}
}

// Update changes view id. Name, query and shared need the edit right
// (see the package comment); pinned is the caller's own pin.
func (s *Service) Update(ctx context.Context, id string, p Patch) (View, error) {
	const action = "view.update"
	a, err := caller(ctx)
	if err != nil {
		return View{}, fmt.Errorf("update view: %w", err)
	}
	v, fields, err := s.update(ctx, a, id, p)
	if p.edits() || err != nil {
		if err := s.audit(ctx, a, action, id, "fields="+strings.Join(fields, ","), err); err != nil {
			return View{}, err
		}
	}
	return v, err
}

func (s *Service) update(ctx context.Context, a actor.Actor, id string, p Patch) (View, []string, error) {
	const op = "update view"
	r, err := s.visibleRow(ctx, a, id)
	if err != nil {
		return View{}, nil, fmt.Errorf("%s: %w", op, err)
	}
	if p.edits() && !canEdit(a, r) {
		return View{}, nil, fmt.Errorf("%s: %w", op, ErrNotOwner)
	}
	var errs fault.Fields
	var fields []string
	if p.Name != nil {
		if n := cleanName(*p.Name, &errs); n != r.Name {
			r.Name = n
			fields = append(fields, "name")
		}
	}
	if p.Query != nil {
		q, err := CleanQuery(*p.Query, s.loc)
		var fs fault.Fields
		if errors.As(err, &fs) {
			errs = append(errs, fs...)
		}
		if err == nil && q != r.Query {
			r.Query = q
			fields = append(fields, "query")
		}
	}
	if p.Shared != nil && *p.Shared != r.Shared {
		r.Shared = *p.Shared
		fields = append(fields, "shared")
	}
	if err := errs.Err(); err != nil {
		return View{}, fields, fmt.Errorf("%s: %w", op, err)
	}
	if p.Pinned != nil {
		if *p.Pinned && !slices.Contains(r.PinnedBy, a.UserID) {
			r.PinnedBy = append(r.PinnedBy, a.UserID)
		} else if !*p.Pinned {
			r.PinnedBy = slices.DeleteFunc(r.PinnedBy, func(u string) bool { return u == a.UserID })
		}
	}
	vars := map[string]any{"rid": store.RecordID("saved_view", id), "u": a.UserID}
	sets := []string{}
	if len(fields) > 0 {
		r.UpdatedAt = s.now().UTC()
		doc := r.doc()
		sets = append(sets, "name = $name", "name_key = $name_key", "query = $query", "shared = $shared", "updated_at = $updated_at")
		for _, k := range []string{"name", "name_key", "query", "shared", "updated_at"} {
			vars[k] = doc[k]
		}
	}
	if p.Pinned != nil {
		// Only the caller's own pin changes: other users' pins made
		// meanwhile are kept.
		if *p.Pinned {
			sets = append(sets, "pinned_by = array::union(pinned_by, [$u])")
		} else {
			sets = append(sets, "pinned_by = array::complement(pinned_by, [$u])")
		}
	}
	if len(sets) == 0 {
		return r.view(a), fields, nil
	}
	if err := s.db.Exec(ctx, "UPDATE $rid SET "+strings.Join(sets, ", ")+" RETURN NONE", vars); err != nil {
		return View{}, fields, fmt.Errorf("%s: %w", op, nameTaken(err))
	}
	return r.view(a), fields, nil
}

// Delete removes view id (owner, or an admin for a shared view).
func (s *Service) Delete(ctx context.Context, id string) error {
	const action = "view.delete"
	a, err := caller(ctx)
	if err != nil {
		return fmt.Errorf("delete view: %w", err)
	}
	err = s.delete(ctx, a, id)
	return s.audit(ctx, a, action, id, "", err)
}

func (s *Service) delete(ctx context.Context, a actor.Actor, id string) error {
	r, err := s.visibleRow(ctx, a, id)
	if err != nil {
		return fmt.Errorf("delete view: %w", err)
	}
	if !canEdit(a, r) {
		return fmt.Errorf("delete view: %w", ErrNotOwner)
	}
	if err := s.db.Exec(ctx, "DELETE $rid RETURN NONE", map[string]any{"rid": store.RecordID("saved_view", id)}); err != nil {
		return fmt.Errorf("delete view: %w", err)
	}
	return nil
}

// Pinned returns the views the caller pinned on their dashboard, by name.
func (s *Service) Pinned(ctx context.Context) ([]View, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(v View) bool { return !v.Pinned }), nil
}

// visibleRow reads view id, or ErrNotFound when the caller may not see it.
func (s *Service) visibleRow(ctx context.Context, a actor.Actor, id string) (row, error) {
	if !validID(id) {
		return row{}, ErrNotFound
	}
	rows, err := store.Query[[]row](ctx, s.db, "SELECT *, record::id(id) AS id FROM $rid", map[string]any{"rid": store.RecordID("saved_view", id)})
	if err != nil {
		return row{}, err
	}
	if len(rows) == 0 || !visible(a, rows[0]) {
		return row{}, ErrNotFound
	}
	return rows[0], nil
}

// audit records a write's outcome (ids and field names, never the
// name or query); an unaudited write is refused.
func (s *Service) audit(ctx context.Context, a actor.Actor, action, id, detail string, err error) error {
	if s.aud == nil {
		return err
	}
	outcome := audit.OutcomeSuccess
	switch {
	case errors.Is(err, fault.ErrForbidden):
		outcome = audit.OutcomeDenied
	case errors.Is(err, fault.ErrInvalid), errors.Is(err, fault.ErrNotFound), errors.Is(err, fault.ErrConflict):
		outcome = audit.OutcomeFailure
	case err != nil:
		outcome = audit.OutcomeError
	}
	e := audit.Event{At: s.now().UTC(), Actor: a.UserID, Role: string(a.Role), Action: action, Resource: "view", Record: id,
		Outcome: outcome, RequestID: a.RequestID, IP: a.IP, Detail: detail}
	if aerr := s.aud.Record(ctx, e); aerr != nil {
		return fmt.Errorf("%s: audit trail unavailable: %w", action, errors.Join(fault.ErrUnavailable, aerr))
	}
	return err
}

// newID returns "v_" and 12 random base-32 characters (60 bits).
func newID() string { return "v_" + strings.ToLower(rand.Text()[:12]) }

// validID reports whether id has the shape newID makes (anything else
// is not a view, and never reaches a query).
func validID(id string) bool {
	if len(id) != 14 || !strings.HasPrefix(id, "v_") {
		return false
	}
	return !strings.ContainsFunc(id[2:], func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z') })
}
