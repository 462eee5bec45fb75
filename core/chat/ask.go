package chat

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/sdk"
)

// Intent names the core itself answers with.
const (
	IntentKnowledge = "kb.answer"
	IntentFallback  = "fallback"
	IntentFailure   = "unavailable"
	IntentForbidden = "forbidden"
)

// Ask answers one message for the user in ctx and queues the exchange for
// the user's history (PHI-free by construction: see store) and its
// chat.ask audit event; both are stored after the answer is returned
// (Flush waits for them; History reads this instance's queued rows
// first). Errors are only for the caller's mistakes (not signed in, empty
// or oversize message) and a closed Service; plugin trouble becomes a
// graceful reply, a history or audit write that fails is logged.
func (s *Service) Ask(ctx context.Context, req Request) (Reply, error) {
	a := actor.From(ctx)
	if a.Anonymous() {
		return Reply{}, errSignIn
	}
	if err := s.validate(req); err != nil {
		return Reply{}, err
	}
	req.Message = strings.TrimSpace(req.Message)
	// Plugins, help and history see only a known page id.
	req.Context.Page = sdk.ChatPageOf(req.Context.Page)
	if req.Session == "" {
		req.Session = "default"
	}
	req.previous = s.previous(ctx, a.UserID, req.Session)
	reply := s.answer(ctx, a, req)
	reply.At = s.stamp()
	reply.ID = newID()
	if err := s.offerActions(ctx, a, req, &reply); err != nil {
		return Reply{}, err
	}
	if q, ok := reply.Data[sdk.DataQuery].(string); ok {
		s.turns.put(a.UserID, req.Session, turn{query: q, at: reply.At})
	}
	// The answer waits for neither its history rows nor its chat.ask
	// event (the patient reads it made are audited already): the rows
	// are queued for the history writer, the event for the audit log,
	// and Flush and Close wait for both.
	if err := s.storeLater(ctx, a, exchange{session: req.Session, page: req.Context.Page, userText: req.Message, reply: reply}); err != nil {
		return Reply{}, err
	}
	s.auditLater(ctx, a, reply)
	return reply, nil
}

func (s *Service) validate(req Request) error {
	var f fault.Fields
	switch {
	case strings.TrimSpace(req.Message) == "":
		f.Add("message", "is required")
	case len(req.Message) > s.o.MaxMessage:
		f.Add("message", fmt.Sprintf("must be at most %d bytes; ask one question at a time", s.o.MaxMessage))
	case !utf8.ValidString(req.Message):
		f.Add("message", "must be valid UTF-8 text")
	}
	if len(req.Context.Page) > 500 {
		f.Add("context.page", "must be at most 500 characters")
	}
	if len(req.Context.Selection) > 500 {
		f.Add("context.selection", "must list at most 500 ids")
	}
	if len(req.Context.PatientID) > 100 || !recordKey(req.Context.PatientID) {
		f.Add("context.patient_id", "must be a patient record id")
	}
	for _, id := range req.Context.Selection {
		if id == "" || len(id) > 100 || !recordKey(id) {
			f.Add("context.selection", "must list patient record ids")
			break
		}
	}
	if len(req.Session) > 100 || !recordKey(req.Session) {
		f.Add("session", "must be at most 100 letters, digits, '-' or '_'")
	}
	return f.Err()
}

// recordKey reports whether s is empty or made of letters, digits, '-'
// and '_' only (record ids and session names: never free text).
func recordKey(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// answer routes the message: intents, then knowledge, then fallback.
func (s *Service) answer(ctx context.Context, a actor.Actor, req Request) Reply {
	page := sdk.PageContext{Page: req.Context.Page, PatientID: req.Context.PatientID}
	if r, ok := s.answerAlerts(ctx, req.Message); ok {
		return r
	}
	if r, ok := s.answerSavedView(ctx, req.Message); ok {
		return r
	}
	if s.d.Intents != nil {
		// While the server starts, the plugins may still be loading: wait
		// for them (bounded by the registry) before the step's deadline.
		if w, ok := s.d.Intents.(interface{ WaitAssistant(context.Context) }); ok {
			w.WaitAssistant(ctx)
		}
		mctx, cancel := context.WithTimeout(ctx, s.o.PluginTimeout)
		match, ok := s.d.Intents.MatchIntent(mctx, sdk.MatchRequest{Message: req.Message, Context: page})
		cancel()
		if ok {
			return s.handle(ctx, a, req, page, match)
		}
	}
	if r, ok := s.searchKnowledge(ctx, req.Message); ok {
		return r
	}
	return s.phraseFallback(ctx, s.fallback(ctx, req))
}

// auditLater records the chat.ask event of r after Ask returned, as the
// caller (not cancelled with the request); Flush and Close wait for it.
func (s *Service) auditLater(ctx context.Context, a actor.Actor, r Reply) {
	if s.d.Audit == nil {
		return
	}
	s.later.add()
	go func() {
		defer s.later.done()
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		s.auditAsk(actx, a, r)
	}()
}

// auditAsk records that the user used the assistant: the intent only,
// never the text.
func (s *Service) auditAsk(ctx context.Context, a actor.Actor, r Reply) {
	if s.d.Audit == nil {
		return
	}
	e := audit.Event{
		At: r.At, Actor: a.UserID, Role: string(a.Role), Action: "chat.ask", Resource: "chat",
		Outcome: audit.OutcomeSuccess, RequestID: a.RequestID, IP: a.IP, Detail: "intent=" + r.Intent,
	}
	if err := s.d.Audit.Record(ctx, e); err != nil {
		s.d.Logger.WarnContext(ctx, "audit chat message", "err", err)
	}
}
