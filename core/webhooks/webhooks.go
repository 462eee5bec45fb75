// Package webhooks sends pfinni's events to receivers that admins
// register: signed per the Standard Webhooks specification
// (webhook-id, webhook-timestamp, webhook-signature "v1,<base64
// HMAC-SHA256 of id.timestamp.body>"), retried on the durable job queue
// (core/jobs) with the specification's schedule, and logged per
// delivery in SurrealDB (tables webhook_endpoint and webhook_delivery,
// core/store/schema/78_webhooks.surql).
//
// Payloads are thin by construction: an Event can only be built by the
// constructors below, which take record ids, statuses and counts, never
// names, birth dates or contact data.
//
// Delivery is at least once: every message has one webhook-id for all
// of its attempts and replays, which receivers use to deduplicate.
// Patient events are derived from patient_history, which each write
// stores in its own transaction, so a crash between a write and its
// publish loses nothing: a sweep on the queue publishes it (sweep.go).
// After a secret rotation both secrets sign for a grace period.
// Endpoint URLs that resolve to loopback, private, link-local or
// metadata addresses are refused at registration and, re-resolved, at
// every delivery, where the check runs on the address actually dialled
// (so DNS rebinding cannot slip past it); redirects are not followed.
//
// core/app builds one Service per process and registers its job kind;
// core/patient and core/importer reach it through their own observer
// interfaces, core/api and core/dashboard through its methods. A
// Service is safe for concurrent use.
package webhooks

import (
	"errors"
	"time"

	"github.com/pfinni/pfinni/core/fault"
)

// EventType names an event a receiver can subscribe to.
type EventType string

// The events pfinni sends.
const (
	PatientCreated       EventType = "patient.created"
	PatientUpdated       EventType = "patient.updated"
	PatientStatusChanged EventType = "patient.status_changed"
	PatientDeleted       EventType = "patient.deleted"
	ImportFinished       EventType = "import.finished"
	AlertRaised          EventType = "alert.raised"
)

// EventTypes lists every event, in documentation order.
var EventTypes = []EventType{PatientCreated, PatientUpdated, PatientStatusChanged, PatientDeleted, ImportFinished, AlertRaised}

// Valid reports whether t is one of EventTypes.
func (t EventType) Valid() bool {
	for _, v := range EventTypes {
		if t == v {
			return true
		}
	}
	return false
}

// Event is one thing that happened, ready to publish. Build it with the
// constructors (PatientEvent, StatusChanged, ImportDone, Alert): they
// admit record ids, statuses and counts only.
type Event struct {
	Type EventType
	Data any
}

// PatientData is the data of patient.created, .updated and .deleted.
type PatientData struct {
	PatientID string   `json:"patient_id"`
	Version   int      `json:"version,omitempty"`
	Fields    []string `json:"fields,omitempty"` // names of changed fields (patient.updated), never values
}

// StatusData is the data of patient.status_changed.
type StatusData struct {
	PatientID string `json:"patient_id"`
	Version   int    `json:"version,omitempty"`
	From      string `json:"from"`
	To        string `json:"to"`
}

// ImportData is the data of import.finished.
type ImportData struct {
	ImportID string         `json:"import_id"`
	State    string         `json:"state"`
	Counts   map[string]int `json:"counts"`
}

// AlertData is the data of alert.raised.
type AlertData struct {
	AlertID   string `json:"alert_id"`
	Kind      string `json:"kind"`
	PatientID string `json:"patient_id,omitempty"`
}

// PatientEvent builds patient.created, patient.updated (with the names
// of the changed fields) or patient.deleted.
func PatientEvent(t EventType, patientID string, version int, fields []string) Event {
	return Event{Type: t, Data: PatientData{PatientID: patientID, Version: version, Fields: fields}}
}

// StatusChanged builds patient.status_changed.
func StatusChanged(patientID string, version int, from, to string) Event {
	return Event{Type: PatientStatusChanged, Data: StatusData{PatientID: patientID, Version: version, From: from, To: to}}
}

// ImportDone builds import.finished with the import's final state and
// its counts (files, created, updated, failed, …).
func ImportDone(importID, state string, counts map[string]int) Event {
	return Event{Type: ImportFinished, Data: ImportData{ImportID: importID, State: state, Counts: counts}}
}

// Alert builds alert.raised: the alert's id and kind, and the patient
// record it is about, if any. Alerts call Service.Publish with it.
func Alert(alertID, kind, patientID string) Event {
	return Event{Type: AlertRaised, Data: AlertData{AlertID: alertID, Kind: kind, PatientID: patientID}}
}

// message is the signed body: {type, timestamp, data}.
type message struct {
	Type      EventType `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Status is where a delivery is.
type Status string

// The states of a delivery.
const (
	Pending   Status = "pending"   // the first attempt has not been made yet
	Delivered Status = "delivered" // a 2xx answer
	Failed    Status = "failed"    // an attempt failed; another is scheduled
	Dead      Status = "dead"      // no attempt left (or the endpoint is gone, paused or disabled)
)

// DefaultSchedule is the Standard Webhooks retry schedule: the delays
// before the 2nd, 3rd, … attempt after an immediate first one.
var DefaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// DefaultRotationGrace is how long a replaced secret keeps signing.
const DefaultRotationGrace = 24 * time.Hour

// Errors callers decide on.
var (
	// ErrNotFound: no such endpoint or delivery.
	ErrNotFound = fault.New(fault.ErrNotFound, "no such webhook endpoint or delivery")
	// ErrBlockedAddress: the URL resolves to a loopback, private,
	// link-local or metadata address and webhook_allow_private is off.
	ErrBlockedAddress = errors.New("webhook URL resolves to a loopback, private, link-local or metadata address")
)
