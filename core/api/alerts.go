package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/alerts"
	"github.com/pfinni/pfinni/core/fault"
)

// bindAlertsAPI binds the signed-in user's alerts: every role has its
// own (docs/alerts.md). Text is composed for the caller on every read.
func (s *Server) bindAlertsAPI(r fiber.Router) {
	if s.deps.Alerts == nil {
		return
	}
	r.Get("/alerts", allow(anyUser), s.listAlerts)
	r.Post("/alerts/read-all", allow(anyUser), s.readAllAlerts)
	r.Post("/alerts/:id/read", allow(anyUser), s.readAlert)
}

// AlertList is GET /api/v1/alerts: the newest alerts and the unread count.
type AlertList struct {
	Items  []alerts.View `json:"items"`
	Unread int           `json:"unread"`
}

func (s *Server) listAlerts(c *fiber.Ctx) error {
	var o alerts.ListOptions
	var bad fault.Fields
	for k, v := range c.Queries() {
		switch k {
		case "unread":
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad.Add("unread", "must be true or false")
			}
			o.Unread = b
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil {
				bad.Add("limit", "must be a whole number")
			}
			o.Limit = n
		default:
			bad.Add(k, "is not a parameter of this list (unread, limit)")
		}
	}
	if err := bad.Err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	page, err := s.deps.Alerts.List(ctx, o)
	if err != nil {
		return err
	}
	return c.JSON(AlertList{Items: s.deps.Alerts.Compose(ctx, page.Items), Unread: page.Unread})
}

func (s *Server) readAlert(c *fiber.Ctx) error {
	ctx := c.UserContext()
	a, err := s.deps.Alerts.MarkRead(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(s.deps.Alerts.Compose(ctx, []alerts.Alert{a})[0])
}

func (s *Server) readAllAlerts(c *fiber.Ctx) error {
	n, err := s.deps.Alerts.MarkAllRead(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"marked": n, "unread": 0})
}
