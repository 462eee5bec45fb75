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

// Phrase sends de-identified text to the adapter.
func (p PluginPhraser) Phrase(ctx context.Context, deidentified string) (string, error) {
	var r sdk.IntentReply
	if err := p.Plugins.Call(ctx, p.Name, sdk.HookIntentHandle, sdk.IntentRequest{Message: deidentified, Intent: "llm.phrase"}, &r); err != nil {
		return "", fmt.Errorf("phrase: %w", err)
	}
	return strings.TrimSpace(r.Reply), nil
}

// phraseFallback asks the LLM adapter, when one is configured, for an
// answer to a message nothing else understood. The message is scrubbed of
// identifiers first (the same scrubber as the stored history), and so is
// the answer. Any failure keeps the built-in fallback.
func (s *Service) phraseFallback(ctx context.Context, req Request, base Reply) Reply {
	if s.d.Phraser == nil {
		return base
	}
	var v *vocabulary
	if vv, err := s.vocab.get(ctx); err == nil {
		v = vv
	}
	sc := newScrubber(v)
	text := sc.Text(req.Message)
	pctx, cancel := context.WithTimeout(ctx, 2*s.o.PluginTimeout)
	defer cancel()
	answer, err := s.d.Phraser.Phrase(pctx, "Page: "+sc.Text(req.Context.Page)+"\nQuestion: "+text)
	if err != nil || answer == "" {
		if err != nil {
			s.d.Logger.WarnContext(ctx, "llm adapter", "err", err)
		}
		return base
	}
	base.Intent = IntentFallback + ".llm"
	base.Reply = sc.Text(answer)
	return base
}
