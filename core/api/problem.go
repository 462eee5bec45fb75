package api

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	Instance  string             `json:"instance,omitempty"`
	Errors    []fault.FieldError `json:"errors,omitempty"`
	RequestID string             `json:"request_id,omitempty"`
}

// statusOf maps an error's kind to its HTTP status: the one place where
// domain errors meet HTTP.
func statusOf(err error) int {
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		return fe.Code
	case errors.Is(err, fault.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, fault.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, fault.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, fault.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, fault.ErrLocked):
		return http.StatusLocked
	case errors.Is(err, fault.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, fault.ErrTooMany):
		return http.StatusTooManyRequests
	case errors.Is(err, fault.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, fault.ErrInvalid):
		var fields fault.Fields
		if errors.As(err, &fields) {
			return http.StatusUnprocessableEntity
		}
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

// problemOf builds the problem body for err. Messages of 5xx errors are
// replaced by a generic text: they may carry internals.
func problemOf(c *fiber.Ctx, err error) Problem {
	return problemFor(err, requestID(c))
}

// problemFor is problemOf outside a request (a WebSocket frame).
func problemFor(err error, requestID string) Problem {
	status := statusOf(err)
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    err.Error(),
		RequestID: requestID,
	}
	var fields fault.Fields
	if errors.As(err, &fields) {
		p.Errors = fields
		p.Detail = "Some fields are not valid; see errors."
	}
	switch {
	case status == http.StatusServiceUnavailable:
		p.Detail = "The database is not answering right now. Try again in a moment."
	case status >= 500:
		p.Detail = "Something went wrong on our side. The request id helps the admin find it."
	}
	return p
}

// writeProblem sends err as application/problem+json.
func writeProblem(c *fiber.Ctx, err error) error {
	p := problemOf(c, err)
	if p.Status == http.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "2")
	}
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.JSON(p, "application/problem+json")
}

// ErrorHandler is Fiber's error handler: every error leaves as problem+json
// for API routes.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	status := statusOf(err)
	if status >= 500 && !errors.Is(err, fault.ErrUnavailable) {
		s.log.Error("request failed", "route", c.Route().Path, "method", c.Method(), "request_id", requestID(c), "err", err)
	}
	if s.pageErrors != nil && !isAPI(c) {
		return s.pageErrors(c, err, status)
	}
	return writeProblem(c, err)
}
