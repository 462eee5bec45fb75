package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"runtime/debug"
	"strconv"
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

// traceMiddleware opens a server span per request, named by route, in
// the caller's trace when the request carries a traceparent, and counts
// the request in the duration histogram (telemetry.go).
func (s *Server) traceMiddleware(c *fiber.Ctx) error {
	start := time.Now()
	ctx, span := s.tracer.Start(inboundTrace(c.UserContext(), c), c.Method()+" "+c.Path(), trace.WithSpanKind(trace.SpanKindServer))
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
	s.recordRequest(ctx, time.Since(start).Seconds(), c.Method(), route, status)
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

// rateLimit admits the request within PFINNI_API_RATE_LIMIT requests
// per minute per client, across all instances (core/ratelimit): per
// user when signed in, per client address (after trusted_proxies)
// otherwise. It runs after authentication; limitRefused charges the
// requests authentication refused. A refusal is a 429 with Retry-After
// and the RateLimit-Policy / RateLimit fields of the IETF draft
// (draft-ietf-httpapi-ratelimit-headers); admitted answers carry the
// two fields too.
func (s *Server) rateLimit(c *fiber.Ctx) error {
	c.Locals(localRateLimited, true)
	a := actor.From(c.UserContext())
	key := "ip:" + a.IP
	if a.UserID != "" {
		key = "user:" + a.UserID
	}
	if err := s.admit(c, key); err != nil {
		return err
	}
	return c.Next()
}

// localRateLimited marks a request rateLimit has decided.
const localRateLimited = "rate_limited"

// limitRefused charges a request that authentication refused (a bad or
// ended credential, a missing CSRF token) to its client address, so
// guessing tokens is limited like any anonymous request.
func (s *Server) limitRefused(c *fiber.Ctx) error {
	err := c.Next()
	if err != nil && c.Locals(localRateLimited) == nil {
		if lerr := s.admit(c, "ip:"+actor.From(c.UserContext()).IP); lerr != nil {
			return lerr
		}
	}
	return err
}

// admit asks the limiter about key and writes the rate limit fields.
func (s *Server) admit(c *fiber.Ctx, key string) error {
	d := s.limits.Allow(key)
	secs := int((d.Reset + time.Second - 1) / time.Second)
	c.Set("RateLimit-Policy", fmt.Sprintf(`"default";q=%d;w=%d`, d.Limit, int(d.Window/time.Second)))
	c.Set("RateLimit", fmt.Sprintf(`"default";r=%d;t=%d`, d.Remaining, secs))
	if !d.Allowed {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return errTooManyRequests
	}
	return nil
}

var errTooManyRequests = fault.New(fault.ErrTooMany, "too many requests from this client; wait for the time in Retry-After")
