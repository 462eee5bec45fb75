package sdk

import "context"

// IntentHandler recognises what a chat message asks for and answers it.
// The host asks every enabled intent handler to Match a message, picks the
// best score above its threshold, and calls Handle on that handler only.
// Both methods must be deterministic for the same input and fast (the
// host's per-call time limit applies to each).
type IntentHandler interface {
	Match(ctx context.Context, req MatchRequest) (MatchResult, error)
	Handle(ctx context.Context, req IntentRequest) (IntentReply, error)
}

// PageContext is what the user is looking at when sending a message.
type PageContext struct {
	Page      string `json:"page,omitempty"`       // a page identifier (chat.go): "patients", "patient", "patient-form", ...
	PatientID string `json:"patient_id,omitempty"` // record id, never an MRN or a name
}

// User describes the caller to a plugin: a record id and role, never a
// name. Plugins use it to tailor replies; the host enforces permissions.
type User struct {
	ID   string `json:"id,omitempty"`
	Role string `json:"role,omitempty"` // admin | staff | auditor
}

// MatchRequest asks how well a handler fits a message.
type MatchRequest struct {
	Message string      `json:"message"`
	Context PageContext `json:"context"`
}

// MatchResult is a handler's claim on a message. Score is 0 (no match) to
// 1 (certain). Intent names the intent matched (one of those the plugin
// declares in its manifest); Entities carries what was extracted so
// Handle need not parse again.
type MatchResult struct {
	Intent   string         `json:"intent,omitempty"`
	Score    float64        `json:"score"`
	Entities map[string]any `json:"entities,omitempty"`
}

// IntentRequest asks a handler to answer a message it matched.
type IntentRequest struct {
	Message  string         `json:"message"`
	Intent   string         `json:"intent"`
	Context  PageContext    `json:"context"`
	Entities map[string]any `json:"entities,omitempty"`
	User     User           `json:"user"`
}

// IntentReply is the assistant's answer, the same shape the chat API
// returns: {"reply", "intent", "data", "actions", "suggestions"}. Where the
// answer is a set of patients, Data["patients"] lists them (each with id
// and mrn) and Data["total"] counts them.
type IntentReply struct {
	Reply       string         `json:"reply"`
	Intent      string         `json:"intent"`
	Data        map[string]any `json:"data,omitempty"`
	Actions     []Action       `json:"actions,omitempty"`
	Suggestions []string       `json:"suggestions,omitempty"`
}

// Action is a dashboard action the assistant offers. The host carries it
// out as the user, with the user's permissions, and asks for confirmation
// first when Confirm is set (always, for anything that changes data).
type Action struct {
	Type    string         `json:"type"`              // navigate | set_status | start_import | ...
	Label   string         `json:"label"`             // button text
	Target  string         `json:"target,omitempty"`  // page path or record id
	Params  map[string]any `json:"params,omitempty"`  // filters, new status, reason, ...
	Confirm bool           `json:"confirm,omitempty"` // ask the user before doing it
}
