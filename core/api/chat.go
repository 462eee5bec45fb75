package api

import (
	"bytes"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/fault"
)

// bindChatAPI binds the assistant: POST /chat, GET /chat/history, the
// confirmation of offered actions, the welcome tour's progress, and the
// WebSocket /ws/chat (under the base path, outside /api/v1). Every signed-in
// role may chat; what a role may see or change is decided by the services.
func (s *Server) bindChatAPI(r fiber.Router) {
	if s.deps.Chat == nil {
		return
	}
	r.Post("/chat", allow(anyUser), s.chatAsk)
	r.Get("/chat/contract", allow(anyUser), s.chatContract)
	r.Get("/chat/history", allow(anyUser), s.chatHistory)
	r.Post("/chat/actions/:id/confirm", allow(anyUser), s.chatConfirm)
	r.Post("/chat/actions/:id/cancel", allow(anyUser), s.chatCancel)
	r.Get("/chat/tour", allow(anyUser), s.chatTour)
	r.Put("/chat/tour", allow(anyUser), s.chatSaveTour)
	s.bindChatSocket()
}

func (s *Server) chatAsk(c *fiber.Ctx) error {
	var req chat.Request
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	reply, err := s.deps.Chat.Ask(c.UserContext(), req)
	if err != nil {
		return err
	}
	return c.JSON(reply)
}

// chatContract serves the chat contract the panel is built against:
// page ids, context keys, action types, the message limit and each
// page's suggestion chips (docs/chat.md, "Panel contract").
func (s *Server) chatContract(c *fiber.Ctx) error {
	ct, err := s.deps.Chat.Contract(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ct)
}

func (s *Server) chatHistory(c *fiber.Ctx) error {
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fault.New(fault.ErrInvalid, "bad query parameter limit: must be a positive whole number")
		}
		limit = n
	}
	msgs, err := s.deps.Chat.History(c.UserContext(), c.Query("session"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": msgs})
}

func (s *Server) chatConfirm(c *fiber.Ctx) error {
	var in chat.ConfirmRequest
	if len(bytes.TrimSpace(rawBody(c))) > 0 {
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
	}
	reply, err := s.deps.Chat.Confirm(c.UserContext(), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(reply)
}

func (s *Server) chatCancel(c *fiber.Ctx) error {
	if err := s.deps.Chat.Cancel(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) chatTour(c *fiber.Ctx) error {
	t, err := s.deps.Chat.Tour(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (s *Server) chatSaveTour(c *fiber.Ctx) error {
	var t chat.Tour
	if err := decodeJSON(c, &t); err != nil {
		return err
	}
	t, err := s.deps.Chat.SaveTour(c.UserContext(), t)
	if err != nil {
		return err
	}
	return c.JSON(t)
}
