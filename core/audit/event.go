// Package audit is pfinni's tamper-evident audit trail: every read or
// change of patient data, every login and every user or role change
// leaves an Event (who, what record, which action, when, outcome) — never
// a PHI value. Events are stored with group commit, chained by hash, and
// can be queried but never changed or deleted through any API.
package audit

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
}
