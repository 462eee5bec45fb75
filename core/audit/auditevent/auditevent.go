// Package auditevent holds the audit trail's value types: the Event a
// service records and the outcome names. It imports nothing of pfinni's,
// so that a plugin runtime (core/plugin/hostcall) can describe what it
// audits without pulling in core/audit and, through it, the database
// client. core/audit re-exports these names; most code uses those.
package auditevent

import "time"

// Outcomes of an audited action.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"  // refused by a permission check
	OutcomeFailure = "failure" // refused by validation or business rules
	OutcomeError   = "error"   // failed for a technical reason
)

// Event is one audited action. Detail is free text for non-PHI context
// (counts, field names, a status pair); callers must never put names,
// dates of birth, contact data or MRNs in any field.
//
// Seq, PrevHash, Hash and KeyID are set by the audit log when the event
// is stored; values given to Record are ignored.
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
