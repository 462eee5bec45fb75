package audit

import (
	"unicode/utf8"

	"github.com/pfinni/pfinni/core/audit/auditevent"

	"github.com/pfinni/pfinni/core/fault"
)

// Outcomes of an audited action (defined in the leaf package auditevent,
// which the plugin runtimes import instead of this one).
const (
	OutcomeSuccess = auditevent.OutcomeSuccess
	OutcomeDenied  = auditevent.OutcomeDenied
	OutcomeFailure = auditevent.OutcomeFailure
	OutcomeError   = auditevent.OutcomeError
)

// ActionRead is the action recorded when someone reads the audit trail
// itself (list, export, verify).
const ActionRead = "audit.read"

// maxFieldLen bounds every text field of an Event, in bytes.
const maxFieldLen = 512

// Event is one audited action (see auditevent.Event). Detail is free
// text for non-PHI context; callers must never put names, dates of birth,
// contact data or MRNs in any field.
type Event = auditevent.Event

// validOutcome reports whether o is one of the Outcome constants.
func validOutcome(o string) bool {
	switch o {
	case OutcomeSuccess, OutcomeDenied, OutcomeFailure, OutcomeError:
		return true
	}
	return false
}

// validateEvent checks what Record needs; the messages name Event's JSON fields.
func validateEvent(e Event) error {
	var f fault.Fields
	if e.Action == "" {
		f.Add("action", "is required, e.g. patient.read")
	}
	if e.Resource == "" {
		f.Add("resource", "is required, e.g. patient")
	}
	if !validOutcome(e.Outcome) {
		f.Add("outcome", "must be success, denied, failure or error")
	}
	for name, v := range map[string]string{
		"actor": e.Actor, "role": e.Role, "action": e.Action, "resource": e.Resource,
		"record": e.Record, "request_id": e.RequestID, "ip": e.IP, "detail": e.Detail,
	} {
		if len(v) > maxFieldLen {
			f.Add(name, "is longer than 512 bytes")
		} else if !utf8.ValidString(v) {
			f.Add(name, "is not valid UTF-8")
		}
	}
	return f.Err()
}
