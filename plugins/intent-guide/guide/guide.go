// Package guide is the logic of the intent-guide plugin: navigation help
// ("how do I add a new patient?"), workflow guidance (onboarding, the
// status workflow, imports), form assistance (what a field means, why a
// value was refused, using the form context the panel sends), error
// explanation (the last error the page showed: cause and fix), the
// welcome tour (multi-step, resumable), page-aware suggestions, and polite
// refusals of what the assistant must not do (disclose identifiers, give
// clinical advice, bulk-delete or export data, switch off safeguards).
//
// It needs no patient data and no host capability.
package guide

import (
	"context"
	"fmt"
	"strings"

	"github.com/pfinni/pfinni/plugins/internal/nlu"
	"github.com/pfinni/pfinni/sdk"
)

// Intents this plugin declares.
const (
	IntentNav      = "nav.goto"
	IntentWorkflow = "workflow.guide"
	IntentForm     = "form.help"
	IntentError    = "error.explain"
	IntentTour     = "tour.start"
	IntentSuggest  = "suggest"
	IntentDecline  = "decline"
)

// Handler is the plugin's sdk.IntentHandler.
type Handler struct{}

var _ sdk.IntentHandler = Handler{}

// Match scores a message against the guide's intents.
func (Handler) Match(_ context.Context, req sdk.MatchRequest) (sdk.MatchResult, error) {
	m := nlu.Parse(req.Message)
	intent, score, topic := classify(m, sdk.ChatPageOf(req.Context.Page))
	if score == 0 {
		return sdk.MatchResult{}, nil
	}
	return sdk.MatchResult{Intent: intent, Score: score, Entities: map[string]any{"topic": topic}}, nil
}

// Handle answers.
func (Handler) Handle(_ context.Context, req sdk.IntentRequest) (sdk.IntentReply, error) {
	m := nlu.Parse(req.Message)
	topic, _ := req.Entities["topic"].(string)
	if topic == "" {
		_, _, topic = classify(m, sdk.ChatPageOf(req.Context.Page))
	}
	host := sdk.HostContextFrom(req.Entities)
	var r sdk.IntentReply
	switch req.Intent {
	case IntentDecline:
		r = decline(topic)
	case IntentTour:
		r = tour(host)
	case IntentSuggest:
		r = suggest(sdk.ChatPageOf(req.Context.Page), host)
	case IntentError:
		r = explainError(m, req.Entities)
	case IntentForm:
		r = formHelp(topic, req.Entities)
	case IntentNav:
		r = navigate(topic, m)
	case IntentWorkflow:
		r = workflow(topic)
	default:
		return sdk.IntentReply{}, sdk.Errorf(sdk.CodeInvalidInput, "intent-guide does not serve intent %q", req.Intent)
	}
	r.Intent = req.Intent
	return r, nil
}

// classify returns intent, score and topic.
func classify(m nlu.Message, page string) (string, float64, string) {
	text := " " + m.Text() + " "
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(text, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has(" social security", " ssn", " password", " passwords"):
		return IntentDecline, 0.98, "identifiers"
	case has(" diagnos", " prescri", " medication", " dosage", " dose ", " treatment plan", " treat ", " symptom"):
		return IntentDecline, 0.98, "clinical"
	case has(" delete all", " delete every", " remove all", " wipe", " drop all", " delete the database"):
		return IntentDecline, 0.98, "bulk_delete"
	case has(" every patient", " all patients", " all patient", " all the patients", " everyone s", " all of our patients") && has(" email", " phone", " address", " contact", " numbers"):
		return IntentDecline, 0.98, "export"
	case has(" export all", " export every", " download all", " dump all") || (has(" export", " send", " forward", " email ") && has(" personal", " gmail", " my email", " home email", " outside")):
		return IntentDecline, 0.98, "export"
	case has(" turn off the audit", " turn off audit", " disable audit", " disable the audit", " delete the audit", " delete audit", " stop auditing", " edit the audit", " change the audit"):
		return IntentDecline, 0.98, "audit_off"
	case has(" ignore your rules", " ignore previous", " ignore all previous", " ignore the rules", " bypass", " jailbreak", " pretend you"):
		return IntentDecline, 0.98, "override"
	case has(" tour", " show me around", " walk me through the app", " walkthrough", " i m new here", " im new here", " getting started", " first time here"):
		return IntentTour, 0.96, "tour"
	}
	if t, ok := errorTopic(m, has); ok {
		return IntentError, 0.92, t
	}
	if t, ok := fieldTopic(m, has, page); ok {
		return IntentForm, 0.9, t
	}
	if has(" best practice", " hipaa", " phi ", " privacy", " breach", " minimum necessary", " retention", " kept", " how long") {
		return "", 0, "" // knowledge-base territory
	}
	if t, ok := navTopic(m, has); ok {
		return IntentNav, 0.9, t
	}
	if t, ok := workflowTopic(m, has); ok {
		return IntentWorkflow, 0.88, t
	}
	if has(" what can you do", " what can i ask", " can i ask you", " things can i ask", " what kinds of things", " what sort of things", " what do you do", " suggestions", " suggest", " alerts", " anything i should know",
		" what should i do", " what s next", " whats next", " what next") || strings.TrimSpace(text) == "help" || has(" help me ", " i need help") && m.Len() <= 4 {
		return IntentSuggest, 0.9, "suggest"
	}
	return "", 0, ""
}

// navTopic recognises "where is X", "how do I get to X", "open X".
func navTopic(m nlu.Message, has func(...string) bool) (string, bool) {
	where := has(" where can i", " where do i", " where is", " where are", " how do i get to", " how can i get to", " take me to", " go to", " navigate to", " bring me to", " open the", " find the", " how do i find the")
	addPatient := has(" add a new patient", " add a patient", " add new patient", " create a patient", " create a new patient", " new patient form", " register a patient", " register a new patient", " add patient", " add someone", " add a new person", " add a person")
	if addPatient && has(" how ", " where ", " open", " take me", " go to") {
		return "add_patient", true
	}
	if !where {
		return "", false
	}
	for _, p := range pages {
		for _, k := range p.keys {
			if has(" " + k) {
				return p.topic, true
			}
		}
	}
	if len(nlu.FindStatuses(m, nil)) > 0 || has(" patients", " patient list") {
		return "patients", true
	}
	return "", false
}

// page is a dashboard page the assistant can open.
type page struct {
	topic, path, label, how string
	keys                    []string
}

var pages = []page{
	{"import", "/imports", "Open imports", "Imports live under Imports in the menu (admins start them; everyone can see their results).", []string{"import"}},
	{"audit", "/audit", "Open the audit log", "The audit trail is under Audit in the menu (auditors and admins).", []string{"audit"}},
	{"users", "/admin/users", "Open users", "Users and roles are managed under Admin → Users (admins only).", []string{"user", "users", "roles", "role"}},
	{"plugins", "/admin/plugins", "Open plugins", "Plugins are enabled and disabled under Admin → Plugins (admins only).", []string{"plugin"}},
	{"settings", "/admin/settings", "Open settings", "Settings are under Admin → Settings (admins only).", []string{"settings", "setting", "configuration"}},
	{"providers", "/providers", "Open providers", "Providers are listed under Providers in the menu.", []string{"provider", "doctor"}},
	{"dashboard", "/", "Open the dashboard", "The dashboard is the home page: figures, trends and alerts.", []string{"dashboard", "home"}},
	{"help", "/help", "Open help", "The help page explains every part of pfinni.", []string{"help page", "documentation", "docs"}},
}

func navigate(topic string, m nlu.Message) sdk.IntentReply {
	if topic == "add_patient" {
		return sdk.IntentReply{
			Reply:       "To add a patient: 1) open Patients, 2) choose Add patient, 3) fill in MRN, first and last name and date of birth (required), plus contact, provider and insurance if you have them, 4) save. New patients start in onboarding.",
			Actions:     []sdk.Action{{Type: "navigate", Label: "Add patient", Target: "/patients/new"}},
			Suggestions: []string{"what does MRN mean?", "how does onboarding work?"},
		}
	}
	if topic == "patients" {
		st := nlu.FindStatuses(m, nil)
		target, label, text := "/patients", "Open patients", "Patients are listed under Patients in the menu; filter by status, provider, birthday and more at the top of the list."
		if len(st) > 0 {
			target += "?status=" + strings.Join(st, ",")
			label = "Open " + strings.Join(st, " and ") + " patients"
			text = fmt.Sprintf("Open Patients and filter by status %s — or use the button below, which opens the list already filtered.", strings.Join(st, " or "))
		}
		return sdk.IntentReply{Reply: text, Actions: []sdk.Action{{Type: "navigate", Label: label, Target: target, Params: map[string]any{"status": strings.Join(st, ",")}}}}
	}
	for _, p := range pages {
		if p.topic == topic {
			act := sdk.Action{Type: "navigate", Label: p.label, Target: p.path}
			if topic == "import" {
				act.Type = "start_import"
			}
			return sdk.IntentReply{Reply: p.how, Actions: []sdk.Action{act}}
		}
	}
	return sdk.IntentReply{Reply: "Use the menu on the left to move between Dashboard, Patients, Providers, Imports, Audit and Admin."}
}
