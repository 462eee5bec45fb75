package api

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
)

// The server's telemetry beyond the span itself: an inbound W3C
// traceparent (from NGINX, a caller's own tracing) is honoured, so the
// request's span joins the caller's trace; and every request is counted
// in the http.server.request.duration histogram (semantic conventions)
// by method, route and status — never by path, which may hold an id.

// traceContext reads and writes the W3C traceparent and tracestate
// headers.
var traceContext = propagation.TraceContext{}

// headerCarrier reads a request's headers for the propagator.
type headerCarrier struct{ c *fiber.Ctx }

func (h headerCarrier) Get(key string) string { return h.c.Get(key) }
func (h headerCarrier) Set(string, string)    {}
func (h headerCarrier) Keys() []string        { return []string{"traceparent", "tracestate"} }

var _ propagation.TextMapCarrier = headerCarrier{}

// inboundTrace returns ctx carrying the caller's span context, if the
// request has a valid traceparent.
func inboundTrace(ctx context.Context, c *fiber.Ctx) context.Context {
	return traceContext.Extract(ctx, headerCarrier{c})
}

// requestMetric is the request duration histogram, or nil when the meter
// refuses it (then nothing is recorded).
func requestMetric(m metric.MeterProvider) metric.Float64Histogram {
	h, err := m.Meter("github.com/pfinni/pfinni/core/api").Float64Histogram("http.server.request.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of HTTP server requests"))
	if err != nil {
		return nil
	}
	return h
}

// recordRequest adds one request to the histogram.
func (s *Server) recordRequest(ctx context.Context, seconds float64, method, route string, status int) {
	if s.requests == nil {
		return
	}
	s.requests.Record(ctx, seconds, metric.WithAttributes(attribute.String("http.request.method", method),
		attribute.String("http.route", route), attribute.Int("http.response.status_code", status)))
}
