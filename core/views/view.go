// Package views keeps saved views of the patient list: a name and the
// list's query string (the parameters of GET /api/v1/patients), personal
// to their owner or shared with the practice, and pinned per user on the
// dashboard where they show as counts. The API (core/api/views.go), the
// dashboard and the assistant ("show my view Overdue onboarding") use
// the one Service; core/app builds it.
//
// A view holds no patient data: its name and query are practice data (a
// query's free-text q is the one part that may carry a name, so it is
// never logged or audited; audit events name the view id and the fields
// changed). Reads are not audited; creates, changes and deletes are.
//
// Who may do what: staff, providers and admins list their own views and
// every shared one; only the owner edits or deletes a view, and an admin
// may also edit or delete a shared one; anyone who sees a view may pin it
// on their own dashboard. Auditors have no views.
//
// Concurrency: a Service is safe for concurrent use; all state is in
// SurrealDB, so every core instance sees the same views.
//
// SurrealDB documentation this package follows:
//   - https://surrealdb.com/docs/surrealql/statements/define/indexes (the unique name per owner)
//   - https://surrealdb.com/docs/surrealql/statements/update (UPDATE ... SET ... WHERE)
//   - https://surrealdb.com/docs/surrealql/functions/database/array (array::union, array::complement for pins)
package views

import (
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
)

// Limits of a view.
const (
	MaxName  = 80
	MaxQuery = 2000
	// MaxPerUser bounds how many views one user may own.
	MaxPerUser = 100
)

// View is a saved view as its caller sees it (Mine, CanEdit and Pinned
// are about the caller).
type View struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	Shared    bool      `json:"shared"`
	OwnerID   string    `json:"owner_id"`
	Mine      bool      `json:"mine"`
	CanEdit   bool      `json:"can_edit"`
	Pinned    bool      `json:"pinned"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Input is the body of a new view. Pinned pins it on the creator's
// dashboard.
type Input struct {
	Name   string `json:"name"`
	Query  string `json:"query"`
	Shared bool   `json:"shared"`
	Pinned bool   `json:"pinned"`
}

// Patch changes parts of a view; nil leaves a part as it is. Pinned is
// the caller's own pin and needs no edit right.
type Patch struct {
	Name   *string `json:"name"`
	Query  *string `json:"query"`
	Shared *bool   `json:"shared"`
	Pinned *bool   `json:"pinned"`
}

// edits reports whether the patch changes the view itself (not only the pin).
func (p Patch) edits() bool { return p.Name != nil || p.Query != nil || p.Shared != nil }

// cleanName trims a name and checks it.
func cleanName(name string, errs *fault.Fields) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		errs.Add("name", "is required")
	case utf8.RuneCountInString(name) > MaxName:
		errs.Add("name", "must be at most 80 characters")
	case strings.ContainsFunc(name, unicode.IsControl):
		errs.Add("name", "must be plain text on one line")
	}
	return name
}

// nameKey is how names compare: case and spacing do not make two views.
func nameKey(name string) string { return strings.Join(strings.Fields(strings.ToLower(name)), " ") }

// CleanQuery checks a view's query string against the patient list's
// parameters and returns it in a stable form without the paging
// parameters (limit, cursor): a view is a filter, not a page.
func CleanQuery(q string, loc *time.Location) (string, error) {
	q = strings.TrimPrefix(strings.TrimSpace(q), "?")
	if len(q) > MaxQuery {
		return "", fault.Field("query", "must be at most 2000 characters")
	}
	vals, err := url.ParseQuery(q)
	if err != nil {
		return "", fault.Field("query", "is not a query string (name=value pairs joined by &)")
	}
	vals.Del("limit")
	vals.Del("cursor")
	for k, vs := range vals {
		vs = slices.DeleteFunc(vs, func(v string) bool { return strings.TrimSpace(v) == "" })
		if len(vs) == 0 {
			delete(vals, k)
		} else {
			vals[k] = vs
		}
	}
	if _, err := patient.ParseFilter(vals, loc); err != nil {
		return "", fault.Field("query", err.Error())
	}
	return vals.Encode(), nil
}

// Filter is the patient list filter of a view's query (for counts).
func Filter(q string, loc *time.Location) (patient.Filter, error) {
	vals, err := url.ParseQuery(q)
	if err != nil {
		return patient.Filter{}, fault.Field("query", "is not a query string")
	}
	return patient.ParseFilter(vals, loc)
}
