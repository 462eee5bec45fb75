package api

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/gofiber/contrib/websocket"
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
	r.Get("/chat/history", allow(anyUser), s.chatHistory)
	r.Post("/chat/actions/:id/confirm", allow(anyUser), s.chatConfirm)
	r.Post("/chat/actions/:id/cancel", allow(anyUser), s.chatCancel)
	r.Get("/chat/tour", allow(anyUser), s.chatTour)
	r.Put("/chat/tour", allow(anyUser), s.chatSaveTour)
	s.root.Get("/ws/chat", s.apiGate, s.authenticate, allow(anyUser), s.chatUpgrade, websocket.New(s.chatSocket, websocket.Config{ReadBufferSize: 8 << 10, WriteBufferSize: 8 << 10}))
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
	if len(c.Body()) > 0 {
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

// chatUpgrade admits only WebSocket upgrades and hands the caller's
// context to the socket handler.
func (s *Server) chatUpgrade(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return fault.New(fault.ErrInvalid, "this endpoint speaks WebSocket only (Upgrade: websocket)")
	}
	c.Locals("chat_ctx", c.UserContext())
	return c.Next()
}

// socketFrame is what /ws/chat sends: the reply to a message the socket
// sent ("reply"), an error for it ("error"), or a stored message of the
// user from any tab or core instance ("message", "alert").
type socketFrame struct {
	Type    string        `json:"type"`
	Reply   *chat.Reply   `json:"reply,omitempty"`
	Message *chat.Message `json:"message,omitempty"`
	Error   string        `json:"error,omitempty"`
}

// chatSocket serves one WebSocket: each text frame is a chat request
// ({message, context, session}) answered with a "reply" frame; the user's
// stored messages from other tabs and instances arrive as "message" and
// "alert" frames.
func (s *Server) chatSocket(conn *websocket.Conn) {
	ctx, _ := conn.Locals("chat_ctx").(context.Context)
	if ctx == nil {
		_ = conn.Close()
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	sub, err := s.deps.Chat.Subscribe(ctx)
	if err != nil {
		_ = conn.Close()
		return
	}
	defer sub.Close()
	var wmu sync.Mutex
	write := func(f socketFrame) error {
		wmu.Lock()
		defer wmu.Unlock()
		return conn.WriteJSON(f)
	}
	go func() {
		for m := range sub.C {
			t := "message"
			if m.Role == "alert" {
				t = "alert"
			}
			if write(socketFrame{Type: t, Message: &m}) != nil {
				cancel()
				return
			}
		}
	}()
	conn.SetReadLimit(int64(s.cfg.BodyLimitBytes))
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var req chat.Request
		if err := json.Unmarshal(data, &req); err != nil {
			if write(socketFrame{Type: "error", Error: "send a JSON object {message, context}"}) != nil {
				return
			}
			continue
		}
		reply, err := s.deps.Chat.Ask(ctx, req)
		f := socketFrame{Type: "reply", Reply: &reply}
		if err != nil {
			f = socketFrame{Type: "error", Error: err.Error()}
		}
		if write(f) != nil {
			return
		}
	}
}
