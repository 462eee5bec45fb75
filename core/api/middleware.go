package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
)

const localRequestID = "request_id"

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(localRequestID).(string); ok {
		return id
	}
	return ""
}

// requestIDMiddleware gives every request an id (a sane incoming
// X-Request-ID is kept) and puts the anonymous actor with that id and the
// client address into the request context.
func (s *Server) requestIDMiddleware(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !requestIDPattern.MatchString(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	c.SetUserContext(actor.With(c.UserContext(), actor.Actor{RequestID: id, IP: s.clientIP(c)}))
	return c.Next()
}

// recoverMiddleware turns a panic into a 500 problem and logs the stack
// (stacks hold code locations, not request data).
func (s *Server) recoverMiddleware(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in handler", "route", c.Route().Path, "request_id", requestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error")
		}
	}()
	return c.Next()
}

// securityHeaders sets a strict Content-Security-Policy (no inline
// scripts) and the usual hardening headers; HSTS when the request came
// over TLS (directly, or by X-Forwarded-Proto from a trusted proxy).
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	if c.Protocol() == "https" {
		c.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	return c.Next()
}

// accessLog logs one line per request: the route pattern (never the raw
// path or query string, which may carry search text), status and time.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = statusOf(err)
	}
	s.log.Debug("http", "method", c.Method(), "route", c.Route().Path, "status", status,
		"ms", float64(time.Since(start).Microseconds())/1000, "request_id", requestID(c))
	return err
}

// traceMiddleware opens a server span per request, named by route.
func (s *Server) traceMiddleware(c *fiber.Ctx) error {
	ctx, span := s.tracer.Start(c.UserContext(), c.Method()+" "+c.Path(), trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	c.SetUserContext(ctx)
	err := c.Next()
	route := c.Route().Path
	span.SetName(c.Method() + " " + route)
	status := c.Response().StatusCode()
	if err != nil {
		status = statusOf(err)
	}
	span.SetAttributes(attribute.String("http.route", route), attribute.String("http.request.method", c.Method()),
		attribute.Int("http.response.status_code", status), attribute.String("pfinni.request_id", requestID(c)))
	if status >= 500 {
		span.SetStatus(codes.Error, fmt.Sprintf("status %d", status))
	}
	return err
}

// apiGate answers 503 at once while the database is away, instead of
// letting calls hang on it.
func (s *Server) apiGate(c *fiber.Ctx) error {
	if s.deps.DB != nil && !s.deps.DB.Ready() {
		return fault.ErrUnavailable
	}
	return c.Next()
}

// rateLimit is a per-client token bucket kept in this process. Login has
// its own throttle, shared through the database (core/auth).
func (s *Server) rateLimit(c *fiber.Ctx) error {
	if !s.limits.allow(actor.From(c.UserContext()).IP, time.Now()) {
		c.Set(fiber.HeaderRetryAfter, "1")
		return fault.New(fault.ErrTooMany, "too many requests from this client; slow down")
	}
	return c.Next()
}

type rateLimiter struct {
	mu      sync.Mutex
	perMin  float64
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(perMinute int) *rateLimiter {
	return &rateLimiter{perMin: float64(perMinute), buckets: map[string]*bucket{}}
}

func (r *rateLimiter) allow(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.sweep) > time.Minute {
		for k, b := range r.buckets {
			if now.Sub(b.last) > 2*time.Minute {
				delete(r.buckets, k)
			}
		}
		r.sweep = now
	}
	b, ok := r.buckets[key]
	if !ok {
		b = &bucket{tokens: r.perMin, last: now}
		r.buckets[key] = b
	}
	b.tokens = min(r.perMin, b.tokens+now.Sub(b.last).Minutes()*r.perMin)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
