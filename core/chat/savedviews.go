package chat

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/pfinni/pfinni/core/views"
)

// IntentSavedView is the intent of "show my view Overdue onboarding":
// the core answers it itself, since only the core knows the user's views.
const IntentSavedView = "patients.saved_view"

// SavedViews finds a saved view of the patient list by name for the user
// in ctx (core/views.Service): their own first, then a shared one.
type SavedViews interface {
	FindByName(ctx context.Context, name string) (views.View, error)
}

// savedViewPhrase recognises asking for a saved view by name: "show my
// view X", "open the saved view 'X'", "run view X".
var savedViewPhrase = regexp.MustCompile(`(?i)^\s*(?:please\s+)?(?:show|open|run|display|list|use|apply)\s+(?:me\s+)?(?:my\s+|the\s+|our\s+)?(?:saved\s+|shared\s+)?view\s+(?:called\s+|named\s+)?["'“‘]?(.+?)["'”’]?\s*[.?!]*\s*$`)

// savedViewName returns the view name a message asks for.
func savedViewName(msg string) (string, bool) {
	m := savedViewPhrase.FindStringSubmatch(msg)
	if m == nil || strings.TrimSpace(m[1]) == "" {
		return "", false
	}
	return strings.TrimSpace(m[1]), true
}

// answerSavedView answers a request for a saved view with the view's
// query, run through resolve as the user: the same filter, so the same
// total, as the patient list opened from the view. ok is false when the
// message does not ask for a view (or there are no views here).
func (s *Service) answerSavedView(ctx context.Context, msg string) (Reply, bool) {
	if s.d.Views == nil {
		return Reply{}, false
	}
	name, ok := savedViewName(msg)
	if !ok {
		return Reply{}, false
	}
	v, err := s.d.Views.FindByName(ctx, name)
	switch {
	case errors.Is(err, views.ErrNotFound):
		return Reply{Intent: IntentSavedView, Reply: "I found no saved view of that name. Your views and the shared ones are listed above the patient list.",
			Actions:     []Action{{Type: ActionNavigate, Label: "Open the patient list", Target: "/patients"}},
			Suggestions: []string{"how do I save a view?"}}, true
	case err != nil:
		return s.failure(ctx, IntentSavedView, err), true
	}
	out := Reply{Intent: IntentSavedView, Reply: "Your view “" + v.Name + "”: {total} {patients}.",
		Data: map[string]any{"query": v.Query, "view": "list"}}
	target := "/patients"
	if v.Query != "" {
		target += "?" + v.Query
	}
	out.Actions = []Action{{Type: ActionNavigate, Label: "Open the view", Target: target}}
	if err := s.resolve(ctx, &out); err != nil {
		return s.failure(ctx, IntentSavedView, err), true
	}
	return out, true
}
