package sdk

import "strings"

// The chat contract: what the pages (server-rendered and the chat panel),
// the core's chat service and intent plugins exchange about where the
// user is and what a reply may ask the panel to do. It is defined once,
// here; docs/chat.md ("Panel contract") shows the JSON and
// GET /api/v1/chat/contract serves these lists to the panel.

// Page identifiers: the pages a chat message can come from. The page
// layout publishes one in <meta name="pfinni-page">, the panel sends it
// as context.page, and intent plugins see only these ids (the core
// normalises a path such as "/patients/new" sent by an outside tool).
const (
	PageDashboard   = "dashboard"    // "/" (and "/activity")
	PagePatients    = "patients"     // "/patients": the patient list
	PagePatient     = "patient"      // "/patients/{id}": one patient
	PagePatientForm = "patient-form" // "/patients/new", "/patients/{id}/edit"
	PageProviders   = "providers"    // "/providers", "/providers/{id}"
	PageImports     = "imports"      // "/imports"
	PageReview      = "review"       // "/review": imported records to decide on
	PageAudit       = "audit"        // "/audit", "/audit/verify"
	PageUsers       = "users"        // "/admin/users" (and "/admin")
	PagePlugins     = "plugins"      // "/admin/plugins"
	PageJobs        = "jobs"         // "/admin/jobs"
	PageWebhooks    = "webhooks"     // "/admin/webhooks"
	PageBackups     = "backups"      // "/admin/backups"
	PageSettings    = "settings"     // "/admin/settings"
	PageRepo        = "repo"         // "/repo"
	PageHelp        = "help"         // "/help" (and the API reference, "/help/api")
	PageEmail       = "email"        // "/account/email": the user's e-mail preferences
)

// ChatPages returns every page identifier, in menu order.
func ChatPages() []string {
	return []string{
		PageDashboard, PagePatients, PagePatient, PagePatientForm, PageProviders, PageImports, PageReview,
		PageAudit, PageUsers, PagePlugins, PageJobs, PageWebhooks, PageBackups, PageSettings, PageRepo, PageHelp, PageEmail,
	}
}

// Context keys: the fields of a chat message's "context" object.
const (
	ContextPage      = "page"       // a page identifier (or a path, normalised by the core)
	ContextPatientID = "patient_id" // the patient on screen: a record id, never an MRN or a name
	ContextSelection = "selection"  // ticked rows: patient record ids
	ContextForm      = "form"       // ChatForm: the form that failed validation (names and messages, never values)
	ContextLastError = "last_error" // ChatError: the problem+json the page last showed
)

// ChatContextKeys returns every context key.
func ChatContextKeys() []string {
	return []string{ContextPage, ContextPatientID, ContextSelection, ContextForm, ContextLastError}
}

// Action types a reply may carry; the panel draws a button for each.
const (
	// ActionNavigate opens Target, an app path without the base path
	// ("/patients?status=active"). Client side.
	ActionNavigate = "navigate"
	// ActionStartTour starts or resumes the welcome tour at
	// Params["step"]. Client side.
	ActionStartTour = "start_tour"
	// ActionStartImport opens the import page (Target "/imports").
	// Offered to admins only. Client side.
	ActionStartImport = "start_import"
	// ActionSetStatus changes the status of the patients in
	// Params["patients"] to Params["to"]. It runs on the server, once,
	// after the user confirms; the core composes its label.
	ActionSetStatus = "set_status"
	// ActionCheckEligibility asks the insurer of the patient Target
	// (a record id) whether they are covered today. It runs on the
	// server, as the user, when the button is pressed (POST
	// /api/v1/chat/actions/{id}/confirm); the core keeps the patient id
	// and composes the label. Offered to admins and staff only.
	ActionCheckEligibility = "check_eligibility"
)

// ChatActionTypes returns every action type.
func ChatActionTypes() []string {
	return []string{ActionNavigate, ActionStartTour, ActionStartImport, ActionSetStatus, ActionCheckEligibility}
}

// MaxChatMessageBytes is the longest chat message the core accepts, in
// bytes of UTF-8; the panel explains the limit before sending a longer one.
const MaxChatMessageBytes = 4000

// ChatForm is the form that failed validation on the page: its name and
// the per-field messages it showed. Never the values typed.
type ChatForm struct {
	Name   string           `json:"name,omitempty"` // "patient"
	Errors []ChatFieldError `json:"errors,omitempty"`
}

// ChatFieldError is one field's problem: its name and the message shown.
type ChatFieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ChatError is the last error the page showed: the API's problem+json
// (RFC 9457), which never carries stored values.
type ChatError struct {
	Type      string           `json:"type,omitempty"`
	Title     string           `json:"title,omitempty"`
	Status    int              `json:"status,omitempty"`
	Detail    string           `json:"detail,omitempty"`
	Instance  string           `json:"instance,omitempty"`
	Errors    []ChatFieldError `json:"errors,omitempty"`
	RequestID string           `json:"request_id,omitempty"`
}

// ChatPageOf returns the page identifier of s: s itself when it is one,
// else the page of an app path (with or without a base path, query or
// fragment: "/patients/new", "/pfinni/patients?status=active"). It
// returns "" for anything else.
func ChatPageOf(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range ChatPages() {
		if s == p {
			return p
		}
	}
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return PageDashboard
		}
		s = rest[j:]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if !strings.HasPrefix(s, "/") {
		return ""
	}
	segs := strings.Split(strings.Trim(s, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		return PageDashboard
	}
	// Try the path as is, then without up to three leading segments
	// (a base path such as "/pfinni"); a bare base path is not a page.
	for drop := 0; drop <= 3 && drop < len(segs); drop++ {
		if p := pageOfSegments(segs[drop:]); p != "" {
			return p
		}
	}
	return ""
}

func pageOfSegments(segs []string) string {
	n := len(segs)
	switch segs[0] {
	case "patients":
		switch {
		case n == 1:
			return PagePatients
		case segs[1] == "new" || n >= 3 && segs[2] == "edit":
			return PagePatientForm
		case segs[1] != "":
			return PagePatient
		}
	case "providers":
		return PageProviders
	case "imports":
		return PageImports
	case "review":
		return PageReview
	case "account":
		if n >= 2 && segs[1] == "email" {
			return PageEmail
		}
	case "audit":
		return PageAudit
	case "activity":
		return PageDashboard
	case "admin":
		switch {
		case n == 1 || segs[1] == "users":
			return PageUsers
		case segs[1] == "plugins":
			return PagePlugins
		case segs[1] == "jobs":
			return PageJobs
		case segs[1] == "webhooks":
			return PageWebhooks
		case segs[1] == "backups":
			return PageBackups
		case segs[1] == "settings":
			return PageSettings
		}
	case "repo":
		return PageRepo
	case "help":
		return PageHelp
	}
	return ""
}
