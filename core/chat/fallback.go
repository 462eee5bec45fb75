package chat

import (
	"context"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/sdk"
)

// pageHelpFor is what the assistant offers on a page (an sdk page id)
// for a role: a sentence for the fallback answer and the suggestion chips
// the panel shows there. Roles that cannot read patients get no
// patient-data chips.
func pageHelpFor(page string, role actor.Role) (text string, chips []string) {
	if !readsPatients(role) {
		switch page {
		case sdk.PageAudit:
			return "On the audit pages I can explain what an audit event records and the HIPAA rules behind the audit trail.",
				[]string{"what does the audit log record?", "HIPAA audit controls", "who can see the audit trail?"}
		}
		return "I can explain how pfinni works, the audit trail and HIPAA rules; patient data is not available to your role.",
			[]string{"what does the audit log record?", "HIPAA audit controls", "start the tour"}
	}
	switch page {
	case sdk.PagePatientForm:
		return "On this form I can explain any field, say why a value was refused, or walk you through onboarding.",
			[]string{"what went wrong?", "which fields are required?", "what does MRN mean?", "how does onboarding work?"}
	case sdk.PagePatient:
		return "On a patient's page I can change their status (after you confirm), explain the status workflow, or find similar patients.",
			[]string{"mark this patient as active", "what do the statuses mean?", "how do I change a status?"}
	case sdk.PagePatients:
		return "Here I can find patients for you (by status, provider, city, age, birthdays, missing data), count them, or open a filtered list.",
			[]string{"show me all active patients", "upcoming birthdays", "patients without insurance", "move these to inactive"}
	case sdk.PageProviders:
		return "Here I can list the patients of a provider or count them by status.",
			[]string{"patients of each provider", "patients without a provider", "show me all active patients"}
	case sdk.PageImports:
		return "Here I can explain how imports work: C-CDA and FHIR XML files, folders or .zip, matched by MRN.",
			[]string{"how do I import patients?", "why was a file rejected?", "what formats can I import?"}
	case sdk.PageAudit:
		return "On the audit pages I can explain what an audit event records and the HIPAA rules behind the audit trail.",
			[]string{"what does the audit log record?", "HIPAA audit controls", "who can see the audit trail?"}
	case sdk.PageReview:
		return "Here you decide on imported records pfinni could not match on its own; I can explain how imports work and why a record was held back.",
			[]string{"how do I import patients?", "why was a file rejected?", "what can you do?"}
	case sdk.PageUsers, sdk.PagePlugins, sdk.PageSettings, sdk.PageJobs, sdk.PageWebhooks, sdk.PageBackups:
		return "In the admin pages I can explain plugins, imports and user roles.",
			[]string{"what can each role do?", "how do I import patients?", "start the tour"}
	case sdk.PageHelp, sdk.PageRepo, sdk.PageEmail:
		return "I can answer questions about your patients, explain how pfinni works, and give HIPAA reminders.",
			[]string{"what can you do?", "start the tour", "HIPAA minimum necessary"}
	}
	return "I can answer questions about your patients, summarise trends, explain how pfinni works, and give HIPAA reminders.",
		[]string{"give me a summary", "show me all active patients", "start the tour"}
}

// fallback answers what nothing understood with help for the page.
func (s *Service) fallback(ctx context.Context, req Request) Reply {
	text, chips := pageHelpFor(req.Context.Page, actor.From(ctx).Role)
	return Reply{Intent: IntentFallback, Reply: "I'm not sure I understood that. " + text, Suggestions: chips}
}

// Contract is the chat contract served to the panel
// (GET /api/v1/chat/contract): the lists of sdk/chat.go, the message
// limit in force, and the suggestion chips of each page for the caller.
type Contract struct {
	Pages           []string            `json:"pages"`
	ContextKeys     []string            `json:"context_keys"`
	ActionTypes     []string            `json:"action_types"`
	MaxMessageBytes int                 `json:"max_message_bytes"`
	Suggestions     map[string][]string `json:"suggestions"`
}

// Contract returns the chat contract for the caller in ctx.
func (s *Service) Contract(ctx context.Context) (Contract, error) {
	a := actor.From(ctx)
	if a.Anonymous() {
		return Contract{}, errSignIn
	}
	c := Contract{
		Pages: sdk.ChatPages(), ContextKeys: sdk.ChatContextKeys(), ActionTypes: sdk.ChatActionTypes(),
		MaxMessageBytes: s.o.MaxMessage, Suggestions: map[string][]string{},
	}
	for _, p := range c.Pages {
		_, c.Suggestions[p] = pageHelpFor(p, a.Role)
	}
	return c, nil
}
