package guide

import (
	"fmt"
	"strings"

	"github.com/pfinni/pfinni/plugins/internal/nlu"
	"github.com/pfinni/pfinni/sdk"
)

// workflowTopic recognises workflow questions.
func workflowTopic(m nlu.Message, has func(...string) bool) (string, bool) {
	st := nlu.FindStatuses(m, nil)
	switch {
	case has(" import") && has(" how", " steps", " can i", " what happens", " work"):
		return "import", true
	case has(" difference between", " differ", " versus", " vs ") && len(st) > 0:
		return "statuses", true
	case has(" become active again", " reactivate", " re activate", " come back", " undo churn", " bring back"):
		return "reactivate", true
	case has(" change", " update", " set ") && has(" status") && has(" how", " can i", " steps"):
		return "status_change", true
	case has(" status", " statuses") && has(" mean", " meaning", " what are", " explain", " which"):
		return "statuses", true
	case len(st) > 0 && has(" mean", " meaning", " what is", " what does", " explain"):
		return "statuses", true
	case has(" onboarding", " onboard") && has(" how", " steps", " work", " process", " what", " checklist", " guide"):
		return "onboarding", true
	case has(" workflow", " process") && has(" how", " what", " explain"):
		return "statuses", true
	}
	return "", false
}

func workflow(topic string) sdk.IntentReply {
	switch topic {
	case "import":
		return sdk.IntentReply{
			Reply:       "Importing patients (admins): 1) open Imports, 2) upload C-CDA or FHIR XML files, 3) review the report — each record is created, updated (matched by MRN), skipped or rejected with a reason, 4) fix rejected files and upload them again; importing the same file twice changes nothing.",
			Actions:     []sdk.Action{{Type: "start_import", Label: "Open imports", Target: "/imports"}},
			Suggestions: []string{"what formats can I import?", "how does onboarding work?"},
		}
	case "status_change":
		return sdk.IntentReply{
			Reply:       "To change a status: open the patient, choose Change status, pick the new status and confirm. Allowed moves: onboarding → active or churned; active → inactive or churned; inactive → active or churned; churned → active. Churn and re-activation need a reason. I can also do it for you from a patient's page: say \"mark this patient as active\".",
			Suggestions: []string{"what do the statuses mean?", "can a churned patient become active again?"},
		}
	case "reactivate":
		return sdk.IntentReply{
			Reply:       "Yes. A churned patient can move back to active; give a reason (for example \"returned for care\"). Inactive patients can become active again without one.",
			Suggestions: []string{"how do I change a patient's status?"},
		}
	case "onboarding":
		return sdk.IntentReply{
			Reply:       "Onboarding steps: 1) add the patient (MRN, names, date of birth), 2) add contact details and preferred language, 3) assign a provider, 4) record insurance (payer, member id, group), 5) when the first visit is booked and the data is complete, move the patient to active. Patients in onboarding for more than 14 days show up as stuck on the dashboard.",
			Actions:     []sdk.Action{{Type: "navigate", Label: "Show onboarding patients", Target: "/patients?status=onboarding"}},
			Suggestions: []string{"who is stuck in onboarding?", "what fields are required?"},
		}
	}
	return sdk.IntentReply{
		Reply:       "Statuses: onboarding — new, being set up; active — in care; inactive — no recent care but still with the practice; churned — left the practice (needs a reason). A patient moves onboarding → active → inactive → churned, can come back from inactive or churned to active, and each change is kept in the patient's history.",
		Suggestions: []string{"how do I change a patient's status?", "how many churned this month?"},
	}
}

// fields the patient form has, with their help.
var fields = []struct {
	name, keys, help string
}{
	{"mrn", "mrn|medical record number|record number", "MRN is the medical record number: the practice's unique id for the patient. 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit (for example MRN-001234). Two patients cannot share one."},
	{"date_of_birth", "date of birth|dob|birth date|birthdate|birthday", "Date of birth is written YYYY-MM-DD (for example 1984-07-09). It must be a real date, not in the future."},
	{"phone", "phone|telephone|mobile", "Phone: 7–15 digits, optionally with +, parentheses, dashes, dots or spaces, for example (555) 010-1234."},
	{"email", "email|e mail", "Email must be an address like name@example.org."},
	{"member_id", "member id|member number|insurance id", "Member id is the number on the patient's insurance card; group is the plan's group number, payer the insurer's name."},
	{"group", "group number|group id", "Group is the insurance plan's group number, printed on the card next to the member id."},
	{"payer", "payer|insurer|insurance company", "Payer is the insurance company (for example Aetna or Medicare)."},
	{"provider", "provider field|assigned provider", "Provider is the clinician the patient is assigned to; pick one from the list (Providers page to add one)."},
	{"preferred_name", "preferred name|nickname", "Preferred name is what the patient likes to be called; it is searchable."},
	{"sex", "sex|gender", "Sex is female, male, other or unknown."},
	{"language", "language", "Language is the patient's preferred language, used for communication and interpreter needs."},
	{"required", "required|mandatory|must i fill", "Required: MRN, first name, last name and date of birth. Everything else can be added later (during onboarding)."},
}

// fieldTopic recognises form questions.
func fieldTopic(m nlu.Message, has func(...string) bool, page string) (string, bool) {
	formy := has(" field", " format", " valid", " refused", " rejected", " invalid", " what goes in", " fill in", " required", " mandatory", " mean", " allowed", " accepted", " look like",
		" enter", " put in", " type in", " should i write", " should i put")
	if !formy {
		return "", false
	}
	for _, f := range fields {
		for _, k := range strings.Split(f.keys, "|") {
			if has(" " + k) {
				return f.name, true
			}
		}
	}
	if has(" which fields", " what fields", " fields are required") {
		return "required", true
	}
	if page == sdk.PagePatientForm {
		if has(" field", " refused", " rejected", " invalid") {
			return "form", true
		}
	}
	return "", false
}

func formHelp(topic string, ents map[string]any) sdk.IntentReply {
	for _, f := range fields {
		if f.name == topic {
			return sdk.IntentReply{Reply: f.help, Suggestions: []string{"which fields are required?", "how does onboarding work?"}}
		}
	}
	if h := sdk.HostContextFrom(ents); h.Today != "" {
		_ = h
	}
	if msg := formErrors(ents); msg != "" {
		return sdk.IntentReply{Reply: msg}
	}
	return sdk.IntentReply{Reply: "Each field shows what it expects under it; when a value is refused the message says why. Tell me the field name and I'll explain it.", Suggestions: []string{"what does MRN mean?", "which fields are required?"}}
}

// formErrors reads the form context the panel sent ({"errors": [{field,
// message}]}) — field names and messages only, never values.
func formErrors(ents map[string]any) string {
	host, _ := ents["host"].(map[string]any)
	form, _ := host["form"].(map[string]any)
	errs, _ := form["errors"].([]any)
	var parts []string
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			parts = append(parts, fmt.Sprintf("%v %v", m["field"], m["message"]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "The form refused: " + strings.Join(parts, "; ") + ". Fix those values and save again."
}

// errorTopic recognises questions about an error.
func errorTopic(m nlu.Message, has func(...string) bool) (string, bool) {
	if has(" log in", " login", " sign in", " password") {
		return "", false
	}
	switch {
	case has(" 409", " conflict", " version", " stale"):
		return "conflict", true
	case has(" transition", " cannot move"):
		return "transition", true
	case has(" 403", " forbidden", " not allowed", " permission", " access denied"):
		return "forbidden", true
	case has(" 422", " 400") || has(" validation"):
		return "invalid", true
	case has(" 429", " too many"):
		return "rate", true
	case has(" 503", " unavailable", " down "):
		return "unavailable", true
	case has(" 413", " too large", " too big"):
		return "too_large", true
	case has(" error", " went wrong", " can t save", " cant save", " cannot save", " won t save", " wont save", " not saving", " failed", " failing") ||
		has(" save", " saving", " submit") && has(" why", " cant", " cannot", " unable", " won t", " wont", " doesn t", " doesnt"):
		return "last", true
	}
	return "", false
}

var errorHelp = map[string]string{
	"conflict":    "A version conflict (409) means someone else changed this record after you opened it. Reload the page to see their change, then make yours again — nothing of theirs is overwritten.",
	"transition":  "A forbidden transition means the status workflow does not allow that move (for example onboarding → inactive). Allowed: onboarding → active/churned, active → inactive/churned, inactive → active/churned, churned → active (with a reason).",
	"forbidden":   "Forbidden (403) means your role may not do this: staff manage patients, admins also users, plugins and imports, auditors only read the audit trail. Ask an admin if you need more access.",
	"invalid":     "The values were refused (400/422); the message names each field and what it expects. Fix those fields and try again — nothing was saved.",
	"rate":        "Too many requests (429): slow down for a few seconds and try again.",
	"unavailable": "Service unavailable (503): the database is not answering right now. pfinni recovers by itself when it is back; try again in a moment.",
	"too_large":   "Too large (413): the request or file is bigger than allowed. Split an import into smaller files or shorten the text.",
	"last":        "I can explain the error if you tell me what it said, or ask from the page right after it happened (the panel sends me the last error).",
}

func explainError(m nlu.Message, ents map[string]any) sdk.IntentReply {
	host, _ := ents["host"].(map[string]any)
	last, _ := host["last_error"].(map[string]any)
	topic, _ := errorTopic(m, func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(" "+m.Text()+" ", s) {
				return true
			}
		}
		return false
	})
	if last != nil && (topic == "last" || topic == "") {
		status := fmt.Sprint(last["status"])
		switch status {
		case "409":
			topic = "conflict"
		case "403", "401":
			topic = "forbidden"
		case "400", "422":
			topic = "invalid"
		case "429":
			topic = "rate"
		case "503":
			topic = "unavailable"
		case "413":
			topic = "too_large"
		}
		if d, ok := last["detail"].(string); ok && strings.Contains(d, "transition") {
			topic = "transition"
		}
	}
	fields := fieldProblems(last)
	form, _ := host["form"].(map[string]any)
	fields = append(fields, fieldProblems(form)...)
	if (topic == "" || topic == "last") && len(fields) > 0 {
		topic = "invalid"
	}
	if topic == "" {
		topic = "last"
	}
	text := errorHelp[topic]
	switch {
	case len(fields) > 0:
		text += " On this page: " + strings.Join(fields, "; ") + ". Correct those fields and save again."
	case last != nil:
		if d, _ := last["detail"].(string); d != "" && len(d) <= 300 {
			text += " The page said: \"" + d + "\"."
		}
	}
	return sdk.IntentReply{Reply: text, Suggestions: []string{"which fields are required?", "what do the statuses mean?", "what can you do?"}}
}

// fieldProblems lists "field: message" of a problem's or form's errors
// (names and messages only; the page never sends values).
func fieldProblems(m map[string]any) []string {
	errs, _ := m["errors"].([]any)
	var out []string
	for _, e := range errs {
		fe, _ := e.(map[string]any)
		f, _ := fe["field"].(string)
		msg, _ := fe["message"].(string)
		if f != "" && msg != "" && len(out) < 8 {
			out = append(out, f+": "+msg)
		}
	}
	return out
}

// TourStep is one step of a welcome tour: the page it is about (an app
// path) and, when the step's element is not marked with its title,
// the data-tour key of the element the panel highlights.
type TourStep struct{ Title, Text, Target, Highlight string }

// TourSteps is the welcome tour of admins, staff and providers; the panel
// shows one step at a time and saves progress, so the tour can be resumed.
var TourSteps = []TourStep{
	{"Welcome", "Welcome to pfinni! This short tour shows where things are. You can leave at any time and resume it by asking \"resume the tour\".", "/", ""},
	{"Dashboard", "The dashboard shows patients by status, new patients per week, churn, upcoming birthdays and patients stuck in onboarding.", "/", ""},
	{"Patients", "Patients lists everyone; filter by status, provider, birthday, dates and more, or search by name, MRN, phone or email (typos are fine).", "/patients", ""},
	{"Add a patient", "Add patient opens the form: MRN, names and date of birth are required; new patients start in onboarding.", "/patients/new", ""},
	{"Statuses", "On a patient's page you change the status (onboarding → active → inactive → churned); every change is kept in the history.", "/patients", ""},
	{"Assistant", "Ask me anything here: \"how many churned this month?\", \"upcoming birthdays\", \"what does MRN mean?\". I'll ask before changing anything.", "/", ""},
	{"Privacy", "Everything you open is audited, and the chat history keeps no names or identifiers. Share only the minimum necessary.", "/", ""},
}

// AuditorTourSteps is the welcome tour of an auditor: only the pages an
// auditor has (the audit log, its filters by user and record, the chain
// check), never patient data.
var AuditorTourSteps = []TourStep{
	{"Welcome", "Welcome to pfinni! As an auditor you see the audit trail: who did what to which record, when, and with what outcome, never the patients' details. Ask \"resume the tour\" to come back to it.", "/audit", "audit-log"},
	{"Audit log", "Every sign-in, every read and every change of patient data is an event here, newest first, with the user, the action, the record, the time and the outcome.", "/audit", "audit-log"},
	{"Activity", "Filter by user, action, record or dates; click a user to see all of their activity, or a record to see everything done to it. Export CSV downloads what the filters show.", "/audit", "audit-filters"},
	{"Verify", "The chain check recomputes every event's hash: an event that was edited or deleted breaks the chain, and this page says where.", "/audit/verify", "audit-verify"},
	{"Assistant", "Ask me \"what does the audit log record?\" or \"HIPAA audit controls\"; patient data is not available to your role.", "/audit", "assistant"},
}

// tourFor is the tour of a role: a provider's leaves out the new-patient
// form (adding patients is staff work).
func tourFor(role string) []TourStep {
	switch role {
	case "auditor":
		return AuditorTourSteps
	case "provider":
		var out []TourStep
		for _, s := range TourSteps {
			if s.Target != "/patients/new" {
				out = append(out, s)
			}
		}
		return out
	}
	return TourSteps
}

func tour(h sdk.HostContext) sdk.IntentReply {
	list := tourFor(h.Role)
	step := 0
	if h.TourStep > 0 && h.TourStep < len(list) && !h.TourDone {
		step = h.TourStep
	}
	steps := make([]map[string]any, len(list))
	for i, s := range list {
		steps[i] = map[string]any{"title": s.Title, "text": s.Text, "target": s.Target}
		if s.Highlight != "" {
			steps[i]["highlight"] = s.Highlight
		}
	}
	verb := "Starting"
	if step > 0 {
		verb = fmt.Sprintf("Resuming at step %d of", step+1)
	}
	return sdk.IntentReply{
		Reply:   fmt.Sprintf("%s the welcome tour (%d steps). %s", verb, len(list), list[step].Text),
		Data:    map[string]any{"tour": map[string]any{"steps": steps, "step": step}},
		Actions: []sdk.Action{{Type: "start_tour", Label: "Start the tour", Params: map[string]any{"step": step}}},
	}
}

func suggest(page string, h sdk.HostContext) sdk.IntentReply {
	var sugg []string
	switch {
	case page == sdk.PagePatientForm:
		sugg = []string{"which fields are required?", "what does MRN mean?", "how does onboarding work?"}
	case page == sdk.PagePatient:
		sugg = []string{"mark this patient as active", "what do the statuses mean?", "how do I change a patient's status?"}
	case page == sdk.PagePatients:
		sugg = []string{"upcoming birthdays", "patients without insurance", "who is stuck in onboarding?", "top 5 newest patients"}
	case page == sdk.PageAudit:
		sugg = []string{"HIPAA audit controls", "what does the audit log record?"}
	default:
		sugg = []string{"give me a summary", "how many churned this month?", "upcoming birthdays", "start the tour"}
	}
	text := "I can find and count patients (by status, provider, city, age, birthdays, missing data, dates), summarise trends, guide you through onboarding and status changes, explain fields and errors, answer HIPAA questions, and change a status for you after you confirm."
	if h.Role == "auditor" {
		text = "As an auditor you can ask me about the audit trail and HIPAA rules; patient data is not available to your role."
		sugg = []string{"HIPAA audit controls", "what does the audit log record?"}
	}
	return sdk.IntentReply{Reply: text + " Try one of these:", Suggestions: sugg[:min(len(sugg), 4)]}
}

var declines = map[string]string{
	"identifiers": "I can't share identifiers like social security numbers or passwords. Open the patient's record if your role allows it; access is audited.",
	"clinical":    "I can't give diagnoses, prescriptions or other clinical advice. Please use your clinical systems and the provider's judgment.",
	"bulk_delete": "I won't delete patients in bulk. An admin can delete a single record from its page, and every deletion is audited.",
	"export":      "I can't export or send patient data outside pfinni. Share only the minimum necessary, through approved channels.",
	"audit_off":   "The audit trail can't be turned off, edited or deleted — that protects your patients and the practice (45 CFR 164.312(b)).",
	"override":    "I have to follow the practice's privacy and safety rules. I'm happy to help within them — ask me about patients, workflows or HIPAA.",
}

func decline(topic string) sdk.IntentReply {
	msg, ok := declines[topic]
	if !ok {
		msg = declines["override"]
	}
	return sdk.IntentReply{Reply: msg, Suggestions: []string{"what can you do?"}}
}
