package patient

import (
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"
)

// What goes to the database is built here, as maps: time.Time would be
// sent as an RFC 3339 string without its fraction of a second, so times
// go as SurrealDB datetimes (models.CustomDateTime) and keep their
// nanoseconds — history entries of one second stay in order, and a
// record loaded back equals the one written through.

func dbTime(t time.Time) models.CustomDateTime { return models.CustomDateTime{Time: t.UTC()} }

func (p *Patient) doc() map[string]any {
	m := docOf(p)
	m["id"] = p.ID
	m["status"] = p.Status
	m["version"] = p.Version
	m["status_changed_at"] = dbTime(p.StatusChangedAt)
	m["created_at"] = dbTime(p.CreatedAt)
	m["updated_at"] = dbTime(p.UpdatedAt)
	return m
}

func (c StatusChange) doc() map[string]any {
	return map[string]any{"patient_id": c.PatientID, "from": c.From, "to": c.To, "reason": c.Reason, "actor": c.Actor, "at": dbTime(c.At)}
}

func (c Change) doc() map[string]any {
	fields := c.Fields
	if fields == nil {
		fields = []string{}
	}
	return map[string]any{"patient_id": c.PatientID, "version": c.Version, "action": c.Action, "fields": fields,
		"actor": c.Actor, "source": c.Source, "at": dbTime(c.At)}
}

func (p Provider) doc() map[string]any {
	return map[string]any{"id": p.ID, "name": p.Name, "npi": p.NPI, "specialty": p.Specialty, "phone": p.Phone, "email": p.Email,
		"organization": p.Organization, "created_at": dbTime(p.CreatedAt), "updated_at": dbTime(p.UpdatedAt)}
}

// docs maps a slice to database documents.
func docs[T any](xs []T, doc func(T) map[string]any) []map[string]any {
	out := make([]map[string]any, len(xs))
	for i, x := range xs {
		out[i] = doc(x)
	}
	return out
}
