package dashboard

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/httpauth"
)

// errorView is the error page's content.
type errorView struct {
	Status  int
	Heading string
	Message string
	Home    string
}

// RenderError renders err as a page with status; core/app passes it to
// api.Server.SetPageErrors so every non-API route fails as a page. A 401
// goes to the sign-in page instead.
func (db *Dashboard) RenderError(c *fiber.Ctx, err error, status int) error {
	if status == http.StatusUnauthorized {
		return db.toLogin(c, signInReason(err))
	}
	ev := errorView{Status: status, Heading: http.StatusText(status), Message: messageOf(err), Home: "/"}
	switch {
	case errors.Is(err, httpauth.ErrCSRF):
		ev.Heading = "You don't have access to this page"
		ev.Message = "This form has expired (its security token did not match). Reload the page and try again."
	case errors.Is(err, httpauth.ErrRoleDenied):
		ev.Heading = "You don't have access to this page"
		if s, ok := sessionOf(c); ok {
			ev.Message = fmt.Sprintf("This page is not available to your role (%s).", s.User.Role)
		}
	case status == http.StatusForbidden:
		ev.Heading = "You don't have access to this page"
	case status == http.StatusNotFound:
		ev.Heading = "Page not found"
		ev.Message = "There is nothing at this address. Check the link, or start again from the dashboard."
	case status == http.StatusServiceUnavailable:
		ev.Heading = "pfinni can't reach its database right now"
		ev.Message = "Nothing was changed. Try again in a moment."
	case status >= 500:
		ev.Heading = "Something went wrong"
		ev.Message = "Nothing more is known here; the request id in the server log helps the admin find it."
	}
	if s, ok := sessionOf(c); ok {
		ev.Home = homeOf(s.User.Role)
	}
	v := db.view(c, ev.Heading, "", ev)
	return db.renderStatus(c, status, v)
}

// renderStatus renders the error page, falling back to plain text if
// even that fails.
func (db *Dashboard) renderStatus(c *fiber.Ctx, status int, v view) error {
	if err := db.render(c, status, "error", v); err != nil {
		return c.Status(status).SendString(http.StatusText(status))
	}
	return nil
}
