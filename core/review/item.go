// Package review is the identity review queue: import records that
// pfinni does not match or create on its own wait here for a person, who
// compares the document's demographics with the likely patients and
// decides: the same person (the document is applied to that patient),
// a new patient (created with a generated MRN), or reject.
//
// A Queue stores items (the importer adds them); a Service lists them
// with their candidates and resolves them. Items hold patient data: every
// read and change is audited (ids, reason codes and counts only) and
// nothing of an item is ever logged. Only admin, staff and the system
// may use either. core/importer and core/api import this package; it
// imports neither.
package review

import (
	"time"

	"github.com/pfinni/pfinni/core/patient"
)

// Reasons an import record is sent to review (the reason codes of Item).
const (
	// ReasonNoIdentifier: the record has no identifier with a system, so
	// nothing can be matched on.
	ReasonNoIdentifier = "no_identifier"
	// ReasonIdentifierCollision: the record's identifier belongs to a
	// patient whose demographics say another person.
	ReasonIdentifierCollision = "identifier_collision"
	// ReasonIdentifiersDisagree: the record's identifiers belong to two
	// or more different patients.
	ReasonIdentifiersDisagree = "identifiers_disagree"
	// ReasonLikelyDuplicate: no identifier matched, but a patient scores
	// as a likely duplicate (patient.DuplicateThreshold).
	ReasonLikelyDuplicate = "likely_duplicate"
	// ReasonMissingName: the record lacks a first or last name, which a
	// new patient needs; it can still be applied to an existing one.
	ReasonMissingName = "missing_name"
)

// Resolutions a reviewer chooses.
const (
	ActionSame   = "same"   // the document is this patient: apply it to patient_id
	ActionNew    = "new"    // a new patient, created with a generated MRN
	ActionReject = "reject" // nothing is applied
	// ActionMerge is accepted as another name for ActionSame.
	ActionMerge = "merge"
)

// Item statuses.
const (
	StatusOpen      = "open"
	StatusResolving = "resolving" // claimed by a resolve in progress
	StatusResolved  = "resolved"
)

// Item is one import record waiting for (or past) a decision.
type Item struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"` // the reason in plain words, no values
	// Source names where the record came from ("import:<file name>").
	Source string `json:"source"`
	JobID  string `json:"job_id"`
	FileID string `json:"file_id"`
	Format string `json:"format"`
	Record string `json:"record"` // locates the record inside its document
	// Document is what the document says about the person.
	Document patient.Input `json:"document"`
	// PatientIDs are the patients the record's identifiers point to
	// (shown as candidates whatever their score).
	PatientIDs []string  `json:"patient_ids"`
	CreatedAt  time.Time `json:"created_at"`
	// Set once resolved.
	Action     string     `json:"action,omitempty"`
	PatientID  string     `json:"patient_id,omitempty"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// Candidate is a patient the reviewer compares the document with: the
// scorer's verdict and the record itself.
type Candidate struct {
	patient.Candidate
	Patient *patient.Patient `json:"patient"`
}

// Entry is an item with its candidates, best first.
type Entry struct {
	Item
	Candidates []Candidate `json:"candidates"`
}
