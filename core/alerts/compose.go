package alerts

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// View is an alert as shown to one user: the /ws/chat frame's "alert"
// and an item of GET /api/v1/alerts. Title and Body are composed now,
// for that user; Link is a page path under the base path.
type View struct {
	ID        string    `json:"id"`
	Kind      Kind      `json:"kind"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	PatientID string    `json:"patient_id,omitempty"`
	Link      string    `json:"link,omitempty"`
	Read      bool      `json:"read"`
	At        time.Time `json:"at"`
}

// Compose words the alerts for the caller in ctx. A patient's name is
// read through the patient service as the caller (audited, and only if
// the caller may read that patient); otherwise the text says "a
// patient". Each patient is read once per call.
func (s *Service) Compose(ctx context.Context, as []Alert) []View {
	names := map[string]string{}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		n := "A patient"
		if p, err := s.d.Patients.Get(ctx, id); err == nil {
			n = strings.TrimSpace(p.FirstName + " " + p.LastName)
		}
		names[id] = n
		return n
	}
	out := make([]View, len(as))
	for i, a := range as {
		out[i] = s.compose(a, name)
	}
	return out
}

// compose words one alert; name resolves a patient id.
func (s *Service) compose(a Alert, name func(string) string) View {
	v := View{ID: a.ID, Kind: a.Kind, PatientID: a.PatientID, Read: a.Read, At: a.At}
	if a.PatientID != "" {
		v.Link = "/patients/" + a.PatientID
	}
	c := a.Counts
	switch a.Kind {
	case KindOnboardingOverdue:
		v.Title = "Onboarding overdue"
		v.Body = fmt.Sprintf("%s has been in onboarding for more than %d days.", name(a.PatientID), c["days"])
	case KindBirthday:
		v.Title = "Birthday today"
		v.Body = fmt.Sprintf("%s has a birthday today.", name(a.PatientID))
	case KindStatusChanged:
		v.Title = "Status changed"
		v.Body = fmt.Sprintf("%s was moved from %s to %s by another user.", name(a.PatientID), a.From, a.To)
	case KindImportFinished:
		v.Title = "Import finished"
		v.Body = fmt.Sprintf("Your import finished: %d created, %d updated, %d unchanged, %d rejected.",
			c["created"], c["updated"], c["unchanged"], c["rejected"])
		v.Link = "/imports"
	case KindImportFailed:
		v.Title = "Import failed"
		v.Body = fmt.Sprintf("Your import finished with every file rejected (%d): see the quarantine on the Imports page.", c["rejected"])
		v.Link = "/imports"
	case KindPluginOut:
		v.Title = "Plugin out of service"
		v.Body = fmt.Sprintf("The plugin %s was taken out of service by its circuit breaker after repeated faults; an admin can enable it again.",
			strings.TrimPrefix(a.Ref, "plugin:"))
		v.Link = "/admin/plugins"
	case KindJobDead:
		v.Title = "Background job dead"
		v.Body = fmt.Sprintf("A background job (%s) failed on every attempt and is dead; it can be retried from the Jobs page.",
			strings.TrimPrefix(a.Ref, "job:"))
		v.Link = "/admin/jobs"
	default:
		v.Title = "Alert"
		v.Body = string(a.Kind)
	}
	return v
}
