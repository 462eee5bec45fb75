package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/webhooks"
)

// bindWebhooksAPI binds outgoing webhooks' admin surface: endpoints
// (the signing secret is answered once, on creation or rotation), their
// delivery log, and replay. Admin only.
func (s *Server) bindWebhooksAPI(r fiber.Router) {
	if s.deps.Webhooks == nil {
		return
	}
	r.Post("/webhooks", allow(adminOnly), s.createWebhook)
	r.Get("/webhooks", allow(adminOnly), s.listWebhooks)
	r.Get("/webhooks/:id", allow(adminOnly), s.getWebhook)
	r.Patch("/webhooks/:id", allow(adminOnly), s.updateWebhook)
	r.Delete("/webhooks/:id", allow(adminOnly), s.deleteWebhook)
	r.Get("/webhooks/:id/deliveries", allow(adminOnly), s.listWebhookDeliveries)
	r.Post("/webhooks/:id/deliveries/:delivery_id/replay", allow(adminOnly), s.replayWebhookDelivery)
}

// webhookWithSecret is an endpoint plus its secret, answered once.
type webhookWithSecret struct {
	webhooks.Endpoint
	Secret string `json:"secret,omitempty"`
}

// createWebhook answers POST /webhooks {url, events, description} with
// 201 and the endpoint with its secret.
func (s *Server) createWebhook(c *fiber.Ctx) error {
	var in webhooks.EndpointInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ep, secret, err := s.deps.Webhooks.Create(c.UserContext(), in, actor.From(c.UserContext()).UserID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(webhookWithSecret{Endpoint: ep, Secret: secret})
}

// listWebhooks answers GET /webhooks with {items, total}.
func (s *Server) listWebhooks(c *fiber.Ctx) error {
	items, err := s.deps.Webhooks.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "total": len(items)})
}

// getWebhook answers GET /webhooks/{id}.
func (s *Server) getWebhook(c *fiber.Ctx) error {
	ep, err := s.deps.Webhooks.Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(ep)
}

// updateWebhook answers PATCH /webhooks/{id} {url, events, description,
// paused, rotate_secret}; a rotation answers the new secret once.
func (s *Server) updateWebhook(c *fiber.Ctx) error {
	var p webhooks.EndpointPatch
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	ep, secret, err := s.deps.Webhooks.Update(c.UserContext(), c.Params("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(webhookWithSecret{Endpoint: ep, Secret: secret})
}

// deleteWebhook answers DELETE /webhooks/{id} with 204.
func (s *Server) deleteWebhook(c *fiber.Ctx) error {
	if err := s.deps.Webhooks.Delete(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// listWebhookDeliveries answers GET /webhooks/{id}/deliveries?limit=&offset=
// with {items:[{id, event, status, attempts, response_code,
// next_attempt_at, created_at}], total}, newest first.
func (s *Server) listWebhookDeliveries(c *fiber.Ctx) error {
	items, total, err := s.deps.Webhooks.Deliveries(c.UserContext(), c.Params("id"), queryInt(c, "limit"), queryInt(c, "offset"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "total": total})
}

// replayWebhookDelivery answers POST /webhooks/{id}/deliveries/{delivery_id}/replay
// with 202 and the delivery, queued again with the same webhook-id.
func (s *Server) replayWebhookDelivery(c *fiber.Ctx) error {
	d, err := s.deps.Webhooks.Replay(c.UserContext(), c.Params("id"), c.Params("delivery_id"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(d)
}
