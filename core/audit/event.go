package audit

import (
	"time"
	"unicode/utf8"

	"github.com/pfinni/pfinni/core/fault"
)

// Outcomes of an audited action.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"  // refused by a permission check
	OutcomeFailure = "failure" // refused by validation or business rules
	OutcomeError   = "error"   // failed for a technical reason
)

// ActionRead is the action recorded when someone reads the audit trail
// itself (list, export, verify).
const ActionRead = "audit.read"

// maxFieldLen bounds every text field of an Event, in bytes.
const maxFieldLen = 512

// Event is one audited action. Detail is free text for non-PHI context
// (counts, field names, a status pair); callers must never put names,
// dates of birth, contact data or MRNs in any field.
//
// Seq, PrevHash, Hash and KeyID are set by the Log when the event is stored;
// values given to Record are ignored.
type Event struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Role      string    `json:"role"`
	Action    string    `json:"action"`   // e.g. "patient.read", "auth.login"
	Resource  string    `json:"resource"` // e.g. "patient", "user", "session"
	Record    string    `json:"record"`   // record id, or "" for lists
	Outcome   string    `json:"outcome"`
	RequestID string    `json:"request_id"`
	IP        string    `json:"ip"`
	Detail    string    `json:"detail,omitempty"`
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
	// KeyID names the HMAC key the hash was made with; "" for an event
	// of the unkeyed (version 1) chain written before keys existed.
	KeyID string `json:"key_id,omitempty"`
}

// validOutcome reports whether o is one of the Outcome constants.
func validOutcome(o string) bool {
	switch o {
	case OutcomeSuccess, OutcomeDenied, OutcomeFailure, OutcomeError:
		return true
	}
	return false
}

// validate checks what Record needs; the messages name Event's JSON fields.
func (e Event) validate() error {
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
