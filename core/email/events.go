package email

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
)

// Resend tells pfinni what became of a message by webhook: it POSTs
// {type, created_at, data} signed the Svix way, which is the Standard
// Webhooks scheme under svix-* header names. A hard bounce
// (email.bounced, "the recipient's server permanently rejected it") or a
// complaint (email.complained) puts the recipients on the suppression
// list, so that nothing is sent to them again.

// MaxEventBody bounds a provider event's body (Resend's are about 1 KiB).
const MaxEventBody = 64 << 10

// Provider event types that change the suppression list.
const (
	EventBounced    = "email.bounced"
	EventComplained = "email.complained"
)

// ProviderEvent is what ReceiveProviderEvent did with one event: the
// event type, and how many addresses it suppressed (never the addresses).
type ProviderEvent struct {
	Type       string `json:"type"`
	Suppressed int    `json:"suppressed"`
}

// providerEvent is the part of Resend's payload pfinni reads.
type providerEvent struct {
	Type string `json:"type"`
	Data struct {
		To     []string `json:"to"`
		Bounce *struct {
			Type string `json:"type"` // "Permanent" for a hard bounce
		} `json:"bounce"`
	} `json:"data"`
}

// ReceiveProviderEvent verifies a Resend webhook (body and headers as
// received) with the signing secret of Options.ProviderWebhookSecret and
// applies it: hard-bounced and complaining recipients are suppressed
// (audited as the system, "email.suppress"); other event types are
// acknowledged and ignored. A signature that does not verify, or a
// timestamp more than 5 minutes off, is refused (fault.ErrInvalid); so
// is a body over MaxEventBody (fault.ErrTooLarge). Receiving the same
// event twice changes nothing more.
func (s *Service) ReceiveProviderEvent(ctx context.Context, body []byte, h http.Header) (ProviderEvent, error) {
	const op = "receive e-mail provider event"
	if s.opt.ProviderWebhookSecret == "" {
		return ProviderEvent{}, fault.New(fault.ErrNotFound, "receiving e-mail provider events is not set up (resend_webhook_secret)")
	}
	if len(body) > MaxEventBody {
		return ProviderEvent{}, fault.Newf(fault.ErrTooLarge, "an event is at most %d bytes", MaxEventBody)
	}
	wh, err := standardwebhooks.NewWebhook(s.opt.ProviderWebhookSecret)
	if err != nil {
		return ProviderEvent{}, fmt.Errorf("%s: signing secret: %w", op, err)
	}
	if err := wh.Verify(body, standardHeaders(h)); err != nil {
		return ProviderEvent{}, fault.New(fault.ErrInvalid, "the event's signature does not verify (svix-id, svix-timestamp, svix-signature)")
	}
	var ev providerEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" {
		return ProviderEvent{}, fault.New(fault.ErrInvalid, "the event is not JSON of the shape {type, created_at, data}")
	}
	out := ProviderEvent{Type: ev.Type}
	reason := ""
	switch {
	case ev.Type == EventComplained:
		reason = "complained"
	case ev.Type == EventBounced && (ev.Data.Bounce == nil || ev.Data.Bounce.Type == "" || strings.EqualFold(ev.Data.Bounce.Type, "Permanent")):
		reason = "bounced"
	default:
		return out, nil // delivered, opened, a transient bounce …: nothing to do
	}
	sys := actor.System(ctx)
	for _, to := range ev.Data.To {
		if err := s.Suppress(sys, to, reason); err != nil {
			return out, fmt.Errorf("%s: %w", op, err)
		}
		out.Suppressed++
	}
	return out, nil
}

// standardHeaders returns h with Svix's header names (svix-id, …) also
// under the Standard Webhooks names the library reads.
func standardHeaders(h http.Header) http.Header {
	out := h.Clone()
	for _, n := range []string{"id", "timestamp", "signature"} {
		if out.Get("webhook-"+n) == "" {
			out.Set("webhook-"+n, h.Get("svix-"+n))
		}
	}
	return out
}
