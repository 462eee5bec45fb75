package dashboard

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/webhooks"
)

// Webhooks is the outgoing webhooks' admin side as the Webhooks page
// uses it; *webhooks.Service implements it.
type Webhooks interface {
	Create(ctx context.Context, in webhooks.EndpointInput, by string) (webhooks.Endpoint, string, error)
	List(ctx context.Context) ([]webhooks.Endpoint, error)
	Update(ctx context.Context, id string, p webhooks.EndpointPatch) (webhooks.Endpoint, string, error)
	Delete(ctx context.Context, id string) error
	Deliveries(ctx context.Context, id string, limit, offset int) ([]webhooks.Delivery, int, error)
	Replay(ctx context.Context, id, deliveryID string) (webhooks.Delivery, error)
}

var _ Webhooks = (*webhooks.Service)(nil)

// bindWebhooks binds the admin's Webhooks page: endpoints, a form to
// add one (its secret is shown once, on the answer), pause/resume,
// rotate, delete, and an endpoint's deliveries with Replay. Admin only.
func (db *Dashboard) bindWebhooks(r fiber.Router) {
	admin := allow(adminPages)
	r.Get("/admin/webhooks", db.session, admin, db.webhooksPage)
	r.Post("/admin/webhooks", db.session, admin, db.webhookCreate)
	r.Post("/admin/webhooks/:id/:action", db.session, admin, db.webhookAction)
	r.Post("/admin/webhooks/:id/deliveries/:delivery_id/replay", db.session, admin, db.webhookReplay)
}

// webhooksView is the Webhooks page.
type webhooksView struct {
	Items      []webhooks.Endpoint
	Events     []webhooks.EventType
	Selected   string // endpoint whose deliveries are shown
	Deliveries []webhooks.Delivery
	Total      int
	Secret     string // a new secret, shown once
	SecretFor  string
	Error      string
	Form       webhooks.EndpointInput
}

func (db *Dashboard) renderWebhooks(c *fiber.Ctx, status int, wv webhooksView) error {
	if db.d.Webhooks == nil {
		return unavailable("webhooks")
	}
	wv.Events = webhooks.EventTypes
	items, err := db.d.Webhooks.List(c.UserContext())
	if err != nil {
		return err
	}
	wv.Items = items
	if wv.Selected != "" {
		wv.Deliveries, wv.Total, err = db.d.Webhooks.Deliveries(c.UserContext(), wv.Selected, 50, 0)
		if errors.Is(err, fault.ErrNotFound) {
			wv.Selected, err = "", nil
		}
		if err != nil {
			return err
		}
	}
	return db.render(c, status, "webhooks", db.view(c, "Webhooks", "webhooks", wv))
}

func (db *Dashboard) webhooksPage(c *fiber.Ctx) error {
	return db.renderWebhooks(c, fiber.StatusOK, webhooksView{Selected: c.Query("endpoint")})
}

// webhookCreate registers an endpoint and answers the page with its
// secret, once (never in a URL).
func (db *Dashboard) webhookCreate(c *fiber.Ctx) error {
	if db.d.Webhooks == nil {
		return unavailable("webhooks")
	}
	var events []string
	for _, v := range c.Request().PostArgs().PeekMulti("events") {
		events = append(events, string(v))
	}
	in := webhooks.EndpointInput{URL: strings.TrimSpace(c.FormValue("url")), Events: events, Description: strings.TrimSpace(c.FormValue("description"))}
	ep, secret, err := db.d.Webhooks.Create(c.UserContext(), in, actor.From(c.UserContext()).UserID)
	if err != nil {
		if !errors.Is(err, fault.ErrInvalid) {
			return err
		}
		return db.renderWebhooks(c, fiber.StatusUnprocessableEntity, webhooksView{Error: messageOf(err), Form: in})
	}
	return db.renderWebhooks(c, fiber.StatusCreated, webhooksView{Secret: secret, SecretFor: ep.ID, Selected: ep.ID})
}

// webhookAction pauses, resumes, rotates or deletes an endpoint.
func (db *Dashboard) webhookAction(c *fiber.Ctx) error {
	if db.d.Webhooks == nil {
		return unavailable("webhooks")
	}
	id := c.Params("id")
	var err error
	var secret string
	switch c.Params("action") {
	case "pause", "resume":
		paused := c.Params("action") == "pause"
		_, _, err = db.d.Webhooks.Update(c.UserContext(), id, webhooks.EndpointPatch{Paused: &paused})
	case "rotate":
		_, secret, err = db.d.Webhooks.Update(c.UserContext(), id, webhooks.EndpointPatch{RotateSecret: true})
	case "delete":
		err = db.d.Webhooks.Delete(c.UserContext(), id)
	default:
		return fiber.ErrNotFound
	}
	if err != nil {
		if !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		return db.renderWebhooks(c, fiber.StatusNotFound, webhooksView{Error: messageOf(err)})
	}
	if secret != "" {
		return db.renderWebhooks(c, fiber.StatusOK, webhooksView{Secret: secret, SecretFor: id, Selected: id})
	}
	return c.Redirect(db.base+"/admin/webhooks?"+url.Values{"notice": {"webhook"}}.Encode(), fiber.StatusSeeOther)
}

// webhookReplay sends a delivery once more, with the same webhook-id.
func (db *Dashboard) webhookReplay(c *fiber.Ctx) error {
	if db.d.Webhooks == nil {
		return unavailable("webhooks")
	}
	id := c.Params("id")
	if _, err := db.d.Webhooks.Replay(c.UserContext(), id, c.Params("delivery_id")); err != nil {
		if !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		return db.renderWebhooks(c, fiber.StatusNotFound, webhooksView{Error: messageOf(err), Selected: id})
	}
	return c.Redirect(db.base+"/admin/webhooks?"+url.Values{"endpoint": {id}, "notice": {"replay"}}.Encode(), fiber.StatusSeeOther)
}
