package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// User is a person who signs in to pfinni. It never carries the
// password hash.
type User struct {
	ID    string     `json:"id"`
	Email string     `json:"email"`
	Name  string     `json:"name"`
	Role  actor.Role `json:"role"`
	// ProviderID links the user to a provider record: required for the
	// provider role (its panel), optional for staff and admins ("my
	// panel"), "" when not linked.
	ProviderID  string     `json:"provider_id"`
	Disabled    bool       `json:"disabled"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// NewUser is what CreateUser needs. Password is required; callers that
// want one made up call GeneratePassword.
type NewUser struct {
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       actor.Role `json:"role"`
	ProviderID string     `json:"provider_id"`
	Password   string     `json:"password"`
}

// UserPatch names the fields UpdateUser changes; nil fields stay.
// Password resets the password (and signs the user out elsewhere).
type UserPatch struct {
	Email *string     `json:"email"`
	Name  *string     `json:"name"`
	Role  *actor.Role `json:"role"`
	// ProviderID links the user to a provider; "" removes the link.
	ProviderID *string `json:"provider_id"`
	Password   *string `json:"password"`
	Disabled   *bool   `json:"disabled"`
}

// userRow is the stored shape of a user.
type userRow struct {
	ID           models.RecordID `json:"id"`
	Email        string          `json:"email"`
	Name         string          `json:"name"`
	Role         string          `json:"role"`
	ProviderID   string          `json:"provider_id"`
	PasswordHash string          `json:"password_hash"`
	Disabled     bool            `json:"disabled"`
	LastLoginAt  *time.Time      `json:"last_login_at"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

func (r userRow) user() User {
	return User{
		ID:          store.Key(r.ID),
		Email:       r.Email,
		Name:        r.Name,
		Role:        actor.Role(r.Role),
		ProviderID:  r.ProviderID,
		Disabled:    r.Disabled,
		LastLoginAt: r.LastLoginAt,
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
	}
}

const maxNameLength = 120

// emailPattern is deliberately stricter than SurrealDB's
// string::is_email, so the schema's ASSERT never refuses what passed here.
var emailPattern = regexp.MustCompile(`^[a-z0-9.!#$%&'*+/=?^_{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$`)

// NormalizeEmail trims and lower-cases an email address, the form in
// which it is stored and looked up.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func checkEmail(f *fault.Fields, email string) {
	switch {
	case email == "":
		f.Add("email", "is required")
	case len(email) > 254 || !emailPattern.MatchString(email):
		f.Add("email", "must be an email address like name@practice.example")
	}
}

func checkName(f *fault.Fields, name string) {
	switch {
	case name == "":
		f.Add("name", "is required")
	case utf8.RuneCountInString(name) > maxNameLength:
		f.Add("name", fmt.Sprintf("must be at most %d characters", maxNameLength))
	case strings.ContainsFunc(name, unicode.IsControl):
		f.Add("name", "must not contain control characters")
	}
}

func checkRole(f *fault.Fields, role actor.Role) {
	if !role.Valid() {
		f.Add("role", "must be one of admin, staff, provider, auditor")
	}
}

// checkProviderLink checks the provider a user of role is linked to:
// a provider must name one, an auditor none, and the record must exist.
func (s *Service) checkProviderLink(ctx context.Context, f *fault.Fields, role actor.Role, providerID string) error {
	switch {
	case providerID == "" && role == actor.RoleProvider:
		f.Add("provider_id", "is required for the provider role: the provider whose panel the user sees")
		return nil
	case providerID == "":
		return nil
	case role == actor.RoleAuditor:
		f.Add("provider_id", "an auditor is not linked to a provider")
		return nil
	case len(providerID) > 64:
		f.Add("provider_id", "no provider has this id")
		return nil
	}
	ok, err := store.Query[bool](ctx, s.db, "RETURN record::exists($rid)", map[string]any{"rid": store.RecordID("provider", providerID)})
	if err != nil {
		return fmt.Errorf("check provider: %w", err)
	}
	if !ok {
		f.Add("provider_id", "no provider has this id")
	}
	return nil
}

// requireAdmin lets admins and the system (CLI, start-up) manage users,
// whatever door the call came through.
func requireAdmin(ctx context.Context) error {
	a := actor.From(ctx)
	if a.Role != actor.RoleAdmin && a.Role != actor.RoleSystem {
		if a.Anonymous() {
			return fault.New(fault.ErrUnauthorized, "sign in as an admin to manage users")
		}
		return fault.Newf(fault.ErrForbidden, "your role (%s) may not manage users", a.Role)
	}
	return nil
}

// CreateUser adds a user and audits "user.create".
func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	if err := requireAdmin(ctx); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	in.Email = NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	in.ProviderID = strings.TrimSpace(in.ProviderID)
	var f fault.Fields
	checkEmail(&f, in.Email)
	checkName(&f, in.Name)
	checkRole(&f, in.Role)
	if err := s.checkProviderLink(ctx, &f, in.Role, in.ProviderID); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if in.Password == "" {
		f.Add("password", "is required")
	} else if msg := checkPassword(in.Password, in.Email); msg != "" {
		f.Add("password", msg)
	}
	if err := f.Err(); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	now := s.now()
	rows, err := store.Query[[]userRow](ctx, s.db, "CREATE user CONTENT $u", map[string]any{"u": map[string]any{
		"email": in.Email, "name": in.Name, "role": string(in.Role), "provider_id": in.ProviderID, "password_hash": hash,
		"disabled": false, "created_at": now, "updated_at": now,
	}})
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", emailTaken(err))
	}
	if len(rows) != 1 {
		return User{}, fmt.Errorf("create user: no record returned")
	}
	u := rows[0].user()
	if err := s.record(ctx, audit.Event{Action: "user.create", Resource: "user", Record: u.ID,
		Outcome: audit.OutcomeSuccess, Detail: "role=" + string(u.Role) + providerDetail(u.ProviderID)}); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

func emailTaken(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return fault.New(fault.ErrConflict, "a user with this email already exists")
	}
	return err
}

// ListUsers returns every user, ordered by email.
func (s *Service) ListUsers(ctx context.Context) ([]User, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	rows, err := store.Query[[]userRow](ctx, s.db, "SELECT * FROM user ORDER BY email", nil)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

// GetUser returns the user with id.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	if err := requireAdmin(ctx); err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	r, err := s.userByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	return r.user(), nil
}

// UserByEmail returns the user with email (any case).
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	if err := requireAdmin(ctx); err != nil {
		return User{}, fmt.Errorf("get user by email: %w", err)
	}
	r, ok, err := s.userByEmail(ctx, NormalizeEmail(email))
	if err != nil {
		return User{}, fmt.Errorf("get user by email: %w", err)
	}
	if !ok {
		return User{}, fmt.Errorf("get user by email: %w", fault.New(fault.ErrNotFound, "no user has this email"))
	}
	return r.user(), nil
}

func (s *Service) userByID(ctx context.Context, id string) (userRow, error) {
	if id == "" || len(id) > 64 {
		return userRow{}, fault.New(fault.ErrNotFound, "no such user")
	}
	rows, err := store.Query[[]userRow](ctx, s.db, "SELECT * FROM $id", map[string]any{"id": store.RecordID("user", id)})
	if err != nil {
		return userRow{}, err
	}
	if len(rows) == 0 {
		return userRow{}, fault.Newf(fault.ErrNotFound, "no user with id %q", id)
	}
	return rows[0], nil
}

func (s *Service) userByEmail(ctx context.Context, email string) (userRow, bool, error) {
	rows, err := store.Query[[]userRow](ctx, s.db, "SELECT * FROM user WHERE email = $email LIMIT 1", map[string]any{"email": email})
	if err != nil || len(rows) == 0 {
		return userRow{}, false, err
	}
	return rows[0], true, nil
}

// activeAdmins counts admins who are not disabled.
func (s *Service) activeAdmins(ctx context.Context) (int, error) {
	return store.Query[int](ctx, s.db, "RETURN count(SELECT id FROM user WHERE role = 'admin' AND disabled = false)", nil)
}

// UpdateUser changes the fields patch names. It audits "user.role_change"
// for a new role, "user.disable" or "user.enable" for the disabled flag
// and "user.update" (with the changed field names) for the rest. A
// disabled user is signed out everywhere at once; a password reset
// signs the user out of every other session. The last active admin can
// be neither demoted nor disabled.
func (s *Service) UpdateUser(ctx context.Context, id string, patch UserPatch) (User, error) {
	if err := requireAdmin(ctx); err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	old, err := s.userByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	set := map[string]any{}
	var f fault.Fields
	var changed []string
	if patch.Email != nil {
		email := NormalizeEmail(*patch.Email)
		checkEmail(&f, email)
		if email != old.Email {
			set["email"] = email
			changed = append(changed, "email")
		}
	}
	if patch.Name != nil {
		name := strings.TrimSpace(*patch.Name)
		checkName(&f, name)
		if name != old.Name {
			set["name"] = name
			changed = append(changed, "name")
		}
	}
	if patch.Role != nil {
		checkRole(&f, *patch.Role)
		if string(*patch.Role) != old.Role {
			set["role"] = string(*patch.Role)
		}
	}
	if patch.Password != nil {
		email := old.Email
		if e, ok := set["email"].(string); ok {
			email = e
		}
		if msg := checkPassword(*patch.Password, email); msg != "" {
			f.Add("password", msg)
		}
		changed = append(changed, "password")
	}
	if patch.Disabled != nil && *patch.Disabled != old.Disabled {
		set["disabled"] = *patch.Disabled
	}
	if err := s.patchProviderLink(ctx, &f, old, patch, set, &changed); err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	if err := f.Err(); err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	if patch == (UserPatch{}) {
		return User{}, fmt.Errorf("update user: %w", fault.New(fault.ErrInvalid, "nothing to change: send at least one of email, name, role, provider_id, password, disabled"))
	}
	if err := s.keepAnAdmin(ctx, old, set); err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	if patch.Password != nil {
		hash, err := s.hashPassword(ctx, *patch.Password)
		if err != nil {
			return User{}, fmt.Errorf("update user: %w", err)
		}
		set["password_hash"] = hash
	}
	if len(set) == 0 {
		return old.user(), nil // nothing differs from what is stored
	}
	set["updated_at"] = s.now()
	rows, err := store.Query[[]userRow](ctx, s.db, "UPDATE $id MERGE $set RETURN AFTER", map[string]any{"id": old.ID, "set": set})
	if err != nil {
		return User{}, fmt.Errorf("update user: %w", emailTaken(err))
	}
	if len(rows) == 0 {
		return User{}, fmt.Errorf("update user: %w", fault.Newf(fault.ErrNotFound, "no user with id %q", id))
	}
	u := rows[0].user()
	if err := s.afterUserChange(ctx, old, u, set); err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	events := make([]audit.Event, 0, 3)
	if len(changed) > 0 {
		events = append(events, audit.Event{Action: "user.update", Detail: "fields=" + strings.Join(changed, ",")})
	}
	if _, ok := set["role"]; ok {
		events = append(events, audit.Event{Action: "user.role_change", Detail: old.Role + "->" + string(u.Role)})
	}
	if _, ok := set["disabled"]; ok {
		action := "user.disable"
		if !u.Disabled {
			action = "user.enable"
		}
		events = append(events, audit.Event{Action: action})
	}
	for _, e := range events {
		e.Resource, e.Record, e.Outcome = "user", u.ID, audit.OutcomeSuccess
		if err := s.record(ctx, e); err != nil {
			return User{}, fmt.Errorf("update user: %w", err)
		}
	}
	return u, nil
}

// patchProviderLink checks the provider link the user has after patch
// (a new role may need one, or forbid it) and sets a changed link.
func (s *Service) patchProviderLink(ctx context.Context, f *fault.Fields, old userRow, patch UserPatch, set map[string]any, changed *[]string) error {
	role, link := actor.Role(old.Role), old.ProviderID
	if patch.Role != nil {
		role = *patch.Role
	}
	if patch.ProviderID != nil {
		link = strings.TrimSpace(*patch.ProviderID)
	}
	if link == old.ProviderID && role == actor.Role(old.Role) {
		return nil
	}
	if err := s.checkProviderLink(ctx, f, role, link); err != nil {
		return err
	}
	if link != old.ProviderID {
		set["provider_id"] = link
		*changed = append(*changed, "provider_id")
	}
	return nil
}

// providerDetail is the audit detail naming a provider link (a record
// id, not PHI).
func providerDetail(id string) string {
	if id == "" {
		return ""
	}
	return " provider=" + id
}

// keepAnAdmin refuses a change that would leave no active admin.
func (s *Service) keepAnAdmin(ctx context.Context, old userRow, set map[string]any) error {
	if old.Role != string(actor.RoleAdmin) || old.Disabled {
		return nil
	}
	role, roleChanged := set["role"]
	disabled, _ := set["disabled"].(bool)
	if !(roleChanged && role != string(actor.RoleAdmin)) && !disabled {
		return nil
	}
	n, err := s.activeAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return fault.New(fault.ErrConflict, "pfinni needs at least one active admin: make another user admin first")
	}
	return nil
}

// afterUserChange ends sessions that must not outlive the change: all
// of a disabled user's, all but the caller's own after a password reset;
// and drops cached sessions so a new role applies at once.
func (s *Service) afterUserChange(ctx context.Context, old userRow, u User, set map[string]any) error {
	_, reset := set["password_hash"]
	switch {
	case u.Disabled:
		if err := s.revokeUserSessions(ctx, u.ID, ""); err != nil {
			return err
		}
	case reset:
		keep := ""
		if a := actor.From(ctx); a.UserID == u.ID {
			keep = a.SessionID
		}
		if err := s.revokeUserSessions(ctx, u.ID, keep); err != nil {
			return err
		}
	}
	s.evict(func(c *cached) bool { return c.sess.User.ID == u.ID })
	if reset || (old.Disabled && !u.Disabled) {
		// A reset or re-enabled account starts with a clean slate.
		emails := []string{old.Email}
		if u.Email != old.Email {
			emails = append(emails, u.Email)
		}
		for _, e := range slices.Compact(emails) {
			if err := s.clearCounter(ctx, s.lockKey(e)); err != nil {
				return err
			}
		}
	}
	return nil
}

// EnsureAdmin creates the bootstrap admin with email when no active
// admin exists. An empty password is replaced by a generated one, which
// is returned (once) for the caller to show; it is stored only hashed.
// created is false when an admin already existed.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (created bool, generated string, err error) {
	if actor.From(ctx).Anonymous() {
		ctx = actor.System(ctx)
	}
	n, err := s.activeAdmins(ctx)
	if err != nil {
		return false, "", fmt.Errorf("ensure admin: %w", err)
	}
	if n > 0 {
		return false, "", nil
	}
	email = NormalizeEmail(email)
	if _, taken, err := s.userByEmail(ctx, email); err != nil {
		return false, "", fmt.Errorf("ensure admin: %w", err)
	} else if taken {
		return false, "", fmt.Errorf("ensure admin: no active admin exists and %s already belongs to a user who is not an active admin; "+
			"choose another admin email or make that user admin with `pfinni user set-role`", email)
	}
	if password == "" {
		if generated, err = GeneratePassword(); err != nil {
			return false, "", fmt.Errorf("ensure admin: %w", err)
		}
		password = generated
	}
	if _, err := s.CreateUser(ctx, NewUser{Email: email, Name: "Administrator", Role: actor.RoleAdmin, Password: password}); err != nil {
		return false, "", fmt.Errorf("ensure admin: %w", err)
	}
	return true, generated, nil
}
