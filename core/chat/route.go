package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/plugin/intent"
	"github.com/pfinni/pfinni/sdk"
)

// handle asks the matched plugin to answer, with the host context, and
// resolves the patient query it returns.
func (s *Service) handle(ctx context.Context, a actor.Actor, req Request, page sdk.PageContext, m intent.Match) Reply {
	host, err := s.hostContext(ctx, req, m.Intent)
	if err != nil {
		s.d.Logger.WarnContext(ctx, "chat host context", "err", err)
	}
	ents := make(map[string]any, len(m.Entities)+1)
	for k, v := range m.Entities {
		ents[k] = v
	}
	ents[sdk.HostContextKey] = host
	m.Entities = ents
	hctx, cancel := context.WithTimeout(ctx, s.o.PluginTimeout)
	defer cancel()
	r, err := s.d.Intents.HandleIntent(hctx, m, sdk.IntentRequest{
		Message: req.Message, Context: page, User: sdk.User{ID: a.UserID, Role: string(a.Role)},
	})
	if err != nil {
		return s.failure(ctx, m.Intent, err)
	}
	out := Reply{Reply: r.Reply, Intent: r.Intent, Plugin: m.Plugin, Data: r.Data, Suggestions: r.Suggestions}
	if out.Intent == "" {
		out.Intent = m.Intent
	}
	for _, act := range r.Actions {
		out.Actions = append(out.Actions, Action{Type: act.Type, Label: act.Label, Target: act.Target, Params: act.Params, Confirm: act.Confirm})
	}
	if err := s.resolve(ctx, &out); err != nil {
		return s.failure(ctx, out.Intent, err)
	}
	return out
}

// failure turns a plugin or data error into a graceful reply.
func (s *Service) failure(ctx context.Context, intent string, err error) Reply {
	var e *sdk.Error
	switch {
	case isForbidden(err):
		return Reply{Intent: IntentForbidden, Reply: "Your role cannot see patient data, so I can't answer that. I can still explain how pfinni works or help with the audit pages."}
	case errors.As(err, &e) && (e.Code == sdk.CodeInvalidInput || e.Code == sdk.CodeNotFound):
		return Reply{Intent: intent, Reply: "I couldn't work that out. Could you rephrase it?", Suggestions: []string{"what can you do?"}}
	case isInvalid(err):
		return Reply{Intent: intent, Reply: "I understood the question but the filter it needs is not valid: " + publicMessage(err) + ". Could you rephrase it?"}
	}
	s.d.Logger.WarnContext(ctx, "chat plugin call failed", "intent", intent, "err", err)
	return Reply{
		Intent:      IntentFailure,
		Reply:       "Sorry, that part of the assistant is not responding right now. Please try again in a moment, or use the page directly.",
		Suggestions: []string{"what can you do?"},
	}
}

// searchKnowledge answers from the knowledge modules.
func (s *Service) searchKnowledge(ctx context.Context, msg string) (Reply, bool) {
	if s.d.Knowledge == nil {
		return Reply{}, false
	}
	kctx, cancel := context.WithTimeout(ctx, s.o.PluginTimeout)
	defer cancel()
	res, err := s.d.Knowledge.SearchKnowledge(kctx, sdk.KBSearchRequest{Query: msg, Limit: 3})
	if err != nil || len(res.Articles) == 0 || res.Articles[0].Score < minArticleScore {
		return Reply{}, false
	}
	best := res.Articles[0]
	var b strings.Builder
	b.WriteString(best.Title + ": ")
	if best.Summary != "" {
		b.WriteString(best.Summary)
	} else {
		b.WriteString(firstParagraph(best.Body))
	}
	if len(best.Citations) > 0 {
		c := best.Citations[0]
		src := c.Source
		if src == "" {
			src = c.Title
		}
		fmt.Fprintf(&b, " (Source: %s.)", src)
	}
	articles := make([]map[string]any, 0, len(res.Articles))
	var sugg []string
	for i, a := range res.Articles {
		articles = append(articles, map[string]any{"id": a.ID, "title": a.Title, "summary": a.Summary, "body": a.Body, "citations": a.Citations})
		if i > 0 {
			sugg = append(sugg, a.Title)
		}
	}
	data := map[string]any{"articles": articles}
	if len(best.Citations) > 0 {
		data["citations"] = best.Citations
	}
	return Reply{Intent: IntentKnowledge, Reply: b.String(), Data: data, Suggestions: sugg}, true
}

// minArticleScore is the lowest knowledge score that answers.
const minArticleScore = 0.3

func firstParagraph(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "\n\n"); i > 0 {
		s = s[:i]
	}
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
