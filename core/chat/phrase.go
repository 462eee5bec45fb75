package chat

import (
	"context"
	"fmt"
	"strings"

	"github.com/pfinni/pfinni/sdk"
)

// PluginCaller calls one plugin's hook (core/plugin.Registry).
type PluginCaller interface {
	Call(ctx context.Context, name, hook string, req, resp any) error
}

// PluginPhraser is the Phraser behind the optional LLM adapter: a process
// plugin (plugins/llm-openai) answering the intent-handle hook.
type PluginPhraser struct {
	Plugins PluginCaller
	Name    string // "llm-openai"
}

var _ Phraser = PluginPhraser{}

// Phrase sends the core's template text to the adapter.
func (p PluginPhraser) Phrase(ctx context.Context, template string) (string, error) {
	var r sdk.IntentReply
	if err := p.Plugins.Call(ctx, p.Name, sdk.HookIntentHandle, sdk.IntentRequest{Message: template, Intent: "llm.phrase"}, &r); err != nil {
		return "", fmt.Errorf("phrase: %w", err)
	}
	return strings.TrimSpace(r.Reply), nil
}

// phraseFallback asks the LLM adapter, when one is configured, to reword
// the fallback answer. The adapter gets the intent name and the core's
// own fixed text for the page — never the user's message, so nothing the
// user typed (a name, a date of birth, a diagnosis) can reach it. Its
// answer is shown as the reply; the history keeps it only through the
// redactor, like any reply. Any failure keeps the built-in text.
func (s *Service) phraseFallback(ctx context.Context, base Reply) Reply {
	if s.d.Phraser == nil {
		return base
	}
	pctx, cancel := context.WithTimeout(ctx, 2*s.o.PluginTimeout)
	defer cancel()
	answer, err := s.d.Phraser.Phrase(pctx, "Intent: "+base.Intent+"\nRephrase for a user of a patient-management dashboard, briefly and kindly:\n"+base.Reply)
	if err != nil || answer == "" {
		if err != nil {
			s.d.Logger.WarnContext(ctx, "llm adapter", "err", err)
		}
		return base
	}
	base.Intent = IntentFallback + ".llm"
	base.Reply = answer
	return base
}
