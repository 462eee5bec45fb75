package patient

import (
	"slices"
	"strings"
)

// Transition is one allowed status change.
type Transition struct {
	From Status `json:"from"`
	To   Status `json:"to"`
	// ReasonRequired says the caller must say why (churn, re-activation).
	ReasonRequired bool `json:"reason_required"`
}

// transitions is THE status workflow: the only place that says which
// status may follow which. Everything else (validation, the UI, the chat
// assistant's guidance) reads it through Transitions and AllowedFrom.
var transitions = []Transition{
	{From: StatusOnboarding, To: StatusActive},
	{From: StatusOnboarding, To: StatusChurned, ReasonRequired: true},
	{From: StatusActive, To: StatusInactive},
	{From: StatusActive, To: StatusChurned, ReasonRequired: true},
	{From: StatusInactive, To: StatusActive},
	{From: StatusInactive, To: StatusChurned, ReasonRequired: true},
	{From: StatusChurned, To: StatusActive, ReasonRequired: true}, // re-activation
}

// Transitions returns every allowed transition (a copy).
func Transitions() []Transition { return slices.Clone(transitions) }

// AllowedFrom returns the statuses a patient in status from may move to.
func AllowedFrom(from Status) []Status {
	var out []Status
	for _, t := range transitions {
		if t.From == from {
			out = append(out, t.To)
		}
	}
	return out
}

// transition finds the rule for from -> to.
func transition(from, to Status) (Transition, bool) {
	for _, t := range transitions {
		if t.From == from && t.To == to {
			return t, true
		}
	}
	return Transition{}, false
}

func joinStatuses(ss []Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
