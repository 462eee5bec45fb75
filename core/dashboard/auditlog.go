package dashboard

import (
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
)

func (db *Dashboard) bindAudit(r fiber.Router) {
	auditors := allow(auditPages)
	r.Get("/audit", db.session, auditors, db.auditList)
	r.Get("/audit/verify", db.session, auditors, db.auditVerify)
}

// auditView is the audit log viewer.
type auditView struct {
	Query     url.Values
	Page      audit.Page
	NextQuery string
	Export    string
	Error     string
	Outcomes  []string
	Names     map[string]string
}

// auditParams are the filter parameters the viewer passes on.
var auditParams = []string{"actor", "action", "resource", "record", "outcome", "from", "to", "cursor"}

func (db *Dashboard) auditList(c *fiber.Ctx) error {
	if db.d.Audit == nil {
		return unavailable("audit")
	}
	q := cleanQuery(c)
	av := auditView{Query: q, Outcomes: []string{audit.OutcomeSuccess, audit.OutcomeDenied, audit.OutcomeFailure, audit.OutcomeError},
		Names: db.userNames(c)}
	params := map[string]string{}
	for _, k := range auditParams {
		if v := q.Get(k); v != "" {
			params[k] = v
		}
	}
	f, err := audit.FilterFromParams(params)
	if err == nil {
		av.Page, err = db.d.Audit.List(c.UserContext(), f)
	}
	if err != nil {
		if !errors.Is(err, fault.ErrInvalid) {
			return err
		}
		av.Error = messageOf(err)
	}
	exp := url.Values{}
	for k, v := range params {
		if k != "cursor" {
			exp.Set(k, v)
		}
	}
	av.Export = "/api/v1/audit/export.csv"
	if len(exp) > 0 {
		av.Export += "?" + exp.Encode()
	}
	if av.Page.NextCursor != "" {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("cursor", av.Page.NextCursor)
		av.NextQuery = next.Encode()
	}
	return db.render(c, fiber.StatusOK, "audit", db.view(c, "Audit log", "audit", av))
}

// auditVerify checks the hash chain (loaded lazily by the audit page).
func (db *Dashboard) auditVerify(c *fiber.Ctx) error {
	if db.d.Audit == nil {
		return unavailable("audit")
	}
	rep, err := db.d.Audit.Verify(c.UserContext())
	if err != nil {
		return err
	}
	return db.render(c, fiber.StatusOK, "audit_verify", db.view(c, "Audit chain check", "audit", rep))
}
