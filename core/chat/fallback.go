package chat

import (
	"context"
	"strings"
)

// pageHelp is what the assistant offers on each page when it did not
// understand a message: a sentence and 2-4 suggestions.
var pageHelp = []struct {
	prefix string
	text   string
	sugg   []string
}{
	{"/patients/new", "On this form I can explain any field, say why a value was refused, or walk you through onboarding.", []string{"what does MRN mean?", "why was the date of birth refused?", "how does onboarding work?"}},
	{"/patients/", "On a patient's page I can change their status (after you confirm), explain the status workflow, or find similar patients.", []string{"mark this patient as active", "what do the statuses mean?", "how do I change a status?"}},
	{"/patients", "Here I can find patients for you (by status, provider, city, age, birthdays, missing data), count them, or open a filtered list.", []string{"show me all active patients", "upcoming birthdays", "patients without insurance"}},
	{"/audit", "On the audit pages I can explain what an audit event records and the HIPAA rules behind the audit trail.", []string{"what does the audit log record?", "HIPAA audit controls", "who can see the audit trail?"}},
	{"/admin", "In the admin pages I can explain plugins, imports and user roles.", []string{"how do I import patients?", "what can each role do?", "start the tour"}},
	{"/", "I can answer questions about your patients, summarise trends, explain how pfinni works, and give HIPAA reminders.", []string{"give me a summary", "show me all active patients", "start the tour"}},
}

// fallback answers what nothing understood with help for the page.
func (s *Service) fallback(_ context.Context, req Request) Reply {
	page := req.Context.Page
	if page == "" {
		page = "/"
	}
	for _, h := range pageHelp {
		if strings.HasPrefix(page, h.prefix) {
			return Reply{
				Intent:      IntentFallback,
				Reply:       "I'm not sure I understood that. " + h.text,
				Suggestions: h.sugg,
			}
		}
	}
	h := pageHelp[len(pageHelp)-1]
	return Reply{Intent: IntentFallback, Reply: "I'm not sure I understood that. " + h.text, Suggestions: h.sugg}
}
