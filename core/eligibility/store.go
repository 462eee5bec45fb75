package eligibility

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/store"
)

const table = "eligibility_check"

// row is an eligibility_check record.
type row struct {
	ID            string                 `json:"id,omitempty"`
	Patient       string                 `json:"patient"`
	Status        string                 `json:"status"`
	Result        string                 `json:"result"`
	ControlNumber string                 `json:"control_number"`
	CheckedBy     string                 `json:"checked_by"`
	CheckedAt     models.CustomDateTime  `json:"checked_at"`
	X12Request    *string                `json:"x12_request,omitempty"`
	X12Response   *string                `json:"x12_response,omitempty"`
	X12Until      *models.CustomDateTime `json:"x12_until,omitempty"`
}

// save stores c with its raw exchange and sets c.ID.
func (s *Service) save(ctx context.Context, c *Check, x270, x271 string) error {
	c.ID = newID()
	result, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("store eligibility check: %w", err)
	}
	r := row{Patient: c.PatientID, Status: c.Status, Result: string(result), ControlNumber: c.ControlNumber,
		CheckedBy: c.CheckedBy, CheckedAt: models.CustomDateTime{Time: c.CheckedAt}}
	if x270 != "" || x271 != "" {
		until := models.CustomDateTime{Time: c.CheckedAt.Add(s.o.RawRetention)}
		r.X12Request, r.X12Response, r.X12Until = &x270, &x271, &until
	}
	if err := s.d.DB.Exec(ctx, "CREATE $rid CONTENT $row RETURN NONE", map[string]any{"rid": store.RecordID(table, c.ID), "row": r}); err != nil {
		return fmt.Errorf("store eligibility check: %w", err)
	}
	return nil
}

// List returns patient id's checks, newest first (at most limit; 20
// when limit is out of 1..100).
func (s *Service) List(ctx context.Context, id string, limit int) ([]Check, error) {
	if err := s.authorize(ctx, actionList, "patient", id, false); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	rows, err := store.Query[[]row](ctx, s.d.DB,
		"SELECT record::id(id) AS id, patient, status, result, control_number, checked_by, checked_at FROM "+table+
			" WHERE patient = $patient ORDER BY checked_at DESC LIMIT $limit",
		map[string]any{"patient": id, "limit": limit})
	if err != nil {
		return nil, s.audited(ctx, actionList, "patient", id, audit.OutcomeError, "store", fmt.Errorf("list eligibility checks: %w", err))
	}
	out := make([]Check, 0, len(rows))
	for _, r := range rows {
		var c Check
		if err := json.Unmarshal([]byte(r.Result), &c); err != nil {
			return nil, fmt.Errorf("list eligibility checks: decode check %s: %w", r.ID, err)
		}
		c.ID = r.ID
		out = append(out, c)
	}
	return out, s.audited(ctx, actionList, "patient", id, audit.OutcomeSuccess, fmt.Sprintf("count=%d", len(out)), nil)
}

// Latest is the newest check of patient id, or nil when there is none.
func (s *Service) Latest(ctx context.Context, id string) (*Check, error) {
	cs, err := s.List(ctx, id, 1)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return &cs[0], nil
}

// X12 returns check id's raw 270 and 271, to admins only; the read is
// audited (the exchange holds PHI). Past its retention it is ErrRawGone.
func (s *Service) X12(ctx context.Context, id string) (X12, error) {
	if err := s.authorize(ctx, actionX12, table, id, true); err != nil {
		return X12{}, err
	}
	if !validID(id) {
		return X12{}, s.audited(ctx, actionX12, table, id, audit.OutcomeFailure, "not_found", ErrCheckNotFound)
	}
	rows, err := store.Query[[]row](ctx, s.d.DB,
		"SELECT record::id(id) AS id, patient, status, result, checked_by, checked_at, x12_request, x12_response, x12_until FROM $rid",
		map[string]any{"rid": store.RecordID(table, id)})
	if err != nil {
		return X12{}, s.audited(ctx, actionX12, table, id, audit.OutcomeError, "store", fmt.Errorf("read eligibility x12: %w", err))
	}
	if len(rows) == 0 {
		return X12{}, s.audited(ctx, actionX12, table, id, audit.OutcomeFailure, "not_found", ErrCheckNotFound)
	}
	r := rows[0]
	if r.X12Until == nil || r.X12Request == nil || !r.X12Until.Time.After(s.o.Now()) {
		return X12{}, s.audited(ctx, actionX12, table, id, audit.OutcomeFailure, "patient="+r.Patient+" purged", ErrRawGone)
	}
	x := X12{CheckID: id, Request: *r.X12Request, Until: r.X12Until.Time.UTC()}
	if r.X12Response != nil {
		x.Response = *r.X12Response
	}
	return x, s.audited(ctx, actionX12, table, id, audit.OutcomeSuccess, "patient="+r.Patient, nil)
}

// PurgeRaw removes the raw X12 of every check past its retention and
// returns how many it cleared.
func (s *Service) PurgeRaw(ctx context.Context) (int, error) {
	gone, err := store.Query[[]struct{}](ctx, s.d.DB,
		"UPDATE "+table+" SET x12_request = NONE, x12_response = NONE, x12_until = NONE WHERE x12_until != NONE AND x12_until <= $now RETURN id",
		map[string]any{"now": models.CustomDateTime{Time: s.o.Now().UTC()}})
	if err != nil {
		return 0, fmt.Errorf("purge eligibility x12: %w", err)
	}
	return len(gone), nil
}

func newID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// validID accepts the ids newID makes (and nothing a query could misread).
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
