package api

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/alerts"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/ratelimit"
)

// The chat WebSocket /ws/chat. A socket lives as long as its session: it
// is opened only from pfinni's own origin, every message it carries is
// authenticated again (a sign-out, the idle timeout or a disabled account
// ends it), and it is checked every socketCheckEvery even when the client
// is silent, so an abandoned tab does not keep a dead session's feed.

const (
	// socketCheckEvery is how often a silent socket re-checks its
	// session (the session cache adds up to 3 s more).
	socketCheckEvery = 2 * time.Second
	// socketMessagesPerMinute bounds what one socket may ask.
	socketMessagesPerMinute = 60
	// localChatCtx and localChatToken hand the request's context and
	// credential from chatUpgrade to chatSocket.
	localChatCtx   = "chat_ctx"
	localChatToken = "chat_token"
)

// errCrossOrigin refuses a WebSocket opened by a page of another origin
// (cross-site WebSocket hijacking: the browser sends the cookie along).
var errCrossOrigin = fault.New(fault.ErrForbidden, "this WebSocket may be opened only from pfinni's own pages (Origin mismatch)")

func (s *Server) bindChatSocket() {
	s.root.Get("/ws/chat", s.apiGate, s.checkOrigin, s.authenticate, allow(anyUser), s.chatUpgrade,
		websocket.New(s.chatSocket, websocket.Config{ReadBufferSize: 8 << 10, WriteBufferSize: 8 << 10, EnableCompression: false}))
}

// checkOrigin admits requests without an Origin (not a browser, so no
// ambient cookie to abuse) and those whose Origin is pfinni's own:
// public_url's scheme and host when set, else the request's own (the
// scheme and host forwarded by a trusted proxy, see trusted_proxies).
func (s *Server) checkOrigin(c *fiber.Ctx) error {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return c.Next()
	}
	if !sameOrigin(origin, s.ownOrigin(c)) {
		return errCrossOrigin
	}
	return c.Next()
}

// ownOrigin is scheme://host of pfinni as its users reach it.
func (s *Server) ownOrigin(c *fiber.Ctx) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	return c.Protocol() + "://" + c.Hostname()
}

// sameOrigin compares two origins (or URLs) by scheme, host and port,
// with default ports made explicit.
func sameOrigin(a, b string) bool {
	ua, err := url.Parse(a)
	if err != nil || ua.Host == "" {
		return false
	}
	ub, err := url.Parse(b)
	if err != nil || ub.Host == "" {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(hostPort(ua), hostPort(ub))
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "wss":
		return u.Host + ":443"
	default:
		return u.Host + ":80"
	}
}

// chatUpgrade admits only WebSocket upgrades and hands the caller's
// context and credential to the socket handler.
func (s *Server) chatUpgrade(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return fault.New(fault.ErrInvalid, "this endpoint speaks WebSocket only (Upgrade: websocket)")
	}
	token, _, err := credential(c)
	if err != nil {
		return err
	}
	c.Locals(localChatCtx, c.UserContext())
	c.Locals(localChatToken, token)
	return c.Next()
}

// socketFrame is what /ws/chat sends: the reply to a message the socket
// sent ("reply"), an error for it ("error", with the HTTP status it would
// have had and a text safe to show), a stored message of the user from
// any tab or core instance ("message"), or one of the user's alerts,
// composed for them ("alert"; docs/alerts.md).
type socketFrame struct {
	Type    string        `json:"type"`
	Reply   *chat.Reply   `json:"reply,omitempty"`
	Message *chat.Message `json:"message,omitempty"`
	Alert   *alerts.View  `json:"alert,omitempty"`
	Error   string        `json:"error,omitempty"`
	Status  int           `json:"status,omitempty"`
}

// errorFrame is the frame of err, its text mapped like an HTTP problem
// (internal errors become a generic text).
func errorFrame(err error, requestID string) socketFrame {
	p := problemFor(err, requestID)
	return socketFrame{Type: "error", Error: p.Detail, Status: p.Status}
}

// chatSocket serves one WebSocket: each text frame is a chat request
// ({message, context, session}) answered with a "reply" frame; the user's
// stored messages from other tabs and instances arrive as "message" and
// "alert" frames. The socket closes (1008, policy violation) when its
// session ends.
func (s *Server) chatSocket(conn *websocket.Conn) {
	base, _ := conn.Locals(localChatCtx).(context.Context)
	token, _ := conn.Locals(localChatToken).(string)
	if base == nil || token == "" || s.deps.Auth == nil {
		_ = conn.Close()
		return
	}
	reqID := actor.From(base).RequestID
	// conn is recycled once this returns: the goroutines below end first
	// (defers run last to first: sub.Close ends the feed, cancel the
	// session check, then wait).
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(context.WithoutCancel(base))
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
	var endOnce sync.Once
	end := func(err error) {
		endOnce.Do(func() {
			f := errorFrame(err, reqID)
			_ = write(f)
			reason := f.Error
			if len(reason) > 120 { // a close reason is at most 123 bytes
				reason = reason[:120]
			}
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, reason), time.Now().Add(time.Second))
			cancel()
			_ = conn.Close()
		})
	}
	if s.deps.Alerts != nil {
		asub, err := s.deps.Alerts.Subscribe(ctx)
		if err != nil {
			_ = conn.Close()
			return
		}
		defer asub.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.sendAlerts(ctx, conn.Query(alertsSinceParam), asub, func(v alerts.View) error {
				return write(socketFrame{Type: "alert", Alert: &v})
			})
			cancel()
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m := range sub.C {
			if write(socketFrame{Type: "message", Message: &m}) != nil {
				cancel()
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		t := time.NewTicker(socketCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := s.deps.Auth.Check(ctx, token); err != nil {
				if ctx.Err() == nil {
					end(err)
				}
				return
			}
		}
	}()
	// One socket's messages: a limit of this connection alone.
	limit := ratelimit.New(nil, ratelimit.Options{Limit: socketMessagesPerMinute, Logger: s.log})
	conn.SetReadLimit(int64(s.cfg.BodyLimitBytes))
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		// Every message is a request: it counts as activity and is
		// refused, with the socket closed, once the session has ended.
		sess, err := s.deps.Auth.Authenticate(ctx, token)
		if err != nil {
			end(err)
			return
		}
		if !limit.Allow("socket").Allowed {
			if write(errorFrame(fault.New(fault.ErrTooMany, "too many messages on this connection; slow down"), reqID)) != nil {
				return
			}
			continue
		}
		var req chat.Request
		if err := json.Unmarshal(data, &req); err != nil {
			if write(errorFrame(fault.New(fault.ErrInvalid, "send a JSON object {message, context}"), reqID)) != nil {
				return
			}
			continue
		}
		actx := actor.With(ctx, sess.Actor(actor.From(base)))
		reply, err := s.deps.Chat.Ask(actx, req)
		f := socketFrame{Type: "reply", Reply: &reply}
		if err != nil {
			f = errorFrame(err, reqID)
		}
		if write(f) != nil {
			return
		}
	}
}

// alertsSinceParam names the /ws/chat query parameter of a reconnecting
// socket: the id of the last alert it saw; the alerts stored after it
// are sent first (docs/chat.md, "Panel contract").
const alertsSinceParam = "alerts_since"

// sendAlerts sends the user's alerts on a socket until sub ends or a
// write fails: first those stored after the alert since (when given),
// then each new one, each once, composed for the user in ctx.
func (s *Server) sendAlerts(ctx context.Context, since string, sub *alerts.Subscription, send func(alerts.View) error) {
	sent := map[string]bool{}
	emit := func(as []alerts.Alert) error {
		for _, v := range s.deps.Alerts.Compose(ctx, as) {
			if sent[v.ID] {
				continue
			}
			sent[v.ID] = true
			if err := send(v); err != nil {
				return err
			}
		}
		return nil
	}
	if since != "" {
		missed, err := s.deps.Alerts.Since(ctx, since)
		if err != nil {
			s.log.WarnContext(ctx, "replay alerts", "err", err)
		} else if emit(missed) != nil {
			return
		}
	}
	for a := range sub.C {
		if emit([]alerts.Alert{a}) != nil {
			return
		}
	}
}
