// Package api is pfinni's HTTP surface: the JSON API under /api/v1, the
// health endpoints, and the middleware every request passes (request id,
// recovery, security headers, logging, tracing, rate limits, readiness,
// authentication and the route x role table). Handlers decode, call a
// service, encode — nothing else; the services audit and enforce rules.
//
// Only core/app imports this package.
package api

import (
	"context"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/httpauth"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/ratelimit"
)

// Readiness is what /readyz asks; the store satisfies it.
type Readiness interface {
	Ready() bool
}

// Deps are the services the API serves. Nil services leave their routes
// unbound (404), so parts can be wired one by one.
type Deps struct {
	Config *config.Config
	Logger *slog.Logger
	DB     Readiness
	Tracer trace.TracerProvider
	Meter  metric.MeterProvider

	// Version is the build version reported by /healthz.
	Version string

	// Limiter is the API's rate limiter, shared across instances
	// (core/app builds it on the store); nil: one of this process only,
	// of Config.APIRateLimit per minute.
	Limiter *ratelimit.Limiter

	// Services, bound by the bind*API functions in routes.go.
	Services
}

// Server is the configured Fiber application.
type Server struct {
	app    *fiber.App
	root   fiber.Router
	deps   Deps
	cfg    *config.Config
	log    *slog.Logger
	tracer trace.Tracer
	limits *ratelimit.Limiter
	login  *httpauth.Middleware // the one login layer (auth.go)
	// proxies are the trusted reverse proxies (trusted_proxies).
	proxies proxies
	// uploads holds a token per import upload being received.
	uploads chan struct{}
	// pageErrors renders errors of non-API routes (the dashboard) as
	// pages; nil means problem+json everywhere.
	pageErrors func(c *fiber.Ctx, err error, status int) error

	// requests is the request duration histogram (telemetry.go).
	requests metric.Float64Histogram
}

// New builds the server and binds every route.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Tracer == nil {
		d.Tracer = tracenoop.NewTracerProvider()
	}
	if d.Meter == nil {
		d.Meter = metricnoop.NewMeterProvider()
	}
	s := &Server{
		deps:    d,
		cfg:     d.Config,
		log:     d.Logger,
		tracer:  d.Tracer.Tracer("github.com/pfinni/pfinni/core/api"),
		limits:  d.Limiter,
		uploads: make(chan struct{}, uploadsAtOnce),
		login:   newLoginLayer(d),
	}
	s.requests = requestMetric(d.Meter)
	if s.limits == nil {
		s.limits = ratelimit.New(nil, ratelimit.Options{Limit: d.Config.APIRateLimit, Logger: d.Logger})
	}
	// Validated by config.Load; a hand-built Config with a bad list trusts
	// no proxy.
	s.proxies, _ = d.Config.TrustedProxyPrefixes()
	trusted := make([]string, len(s.proxies))
	for i, p := range s.proxies {
		trusted[i] = p.String()
	}
	s.app = fiber.New(fiber.Config{
		AppName: "pfinni",
		// Fiber hands out strings that alias its reused request buffers;
		// a form value stored in the patient directory changed under us
		// on the next request (caught by a dashboard test). Immutable
		// copies them.
		Immutable:             true,
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		ReadBufferSize:        16 << 10,
		// Bodies are streamed: fasthttp reads at most 8 KiB ahead and
		// limitBody (every route) or createImport (the signed-in upload,
		// after authentication) read the rest through their limits.
		// Multipart bodies are never parsed (or spooled to disk) before
		// a handler asks.
		BodyLimit:                    d.Config.BodyLimitBytes,
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  d.Config.ReadTimeout,
		WriteTimeout:                 d.Config.WriteTimeout,
		IdleTimeout:                  d.Config.IdleTimeout,
		// X-Forwarded-Proto and -Host (c.Protocol, c.Hostname: the
		// Secure cookie, HSTS, the WebSocket Origin check) are believed
		// only from trusted_proxies; clientIP does X-Forwarded-For.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          trusted,
	})
	// Nothing before refuseEncodedBodies and limitBody reads a body.
	s.app.Use(s.recoverMiddleware, s.requestIDMiddleware, s.securityHeaders, s.accessLog,
		s.refuseEncodedBodies, s.limitBody, s.traceMiddleware)

	base := d.Config.BasePath
	if base != "" {
		// Probes may call the bare paths too.
		s.bindHealth(s.app)
		s.app.Get("/", func(c *fiber.Ctx) error { return c.Redirect(base+"/", fiber.StatusFound) })
		s.root = s.app.Group(base)
	} else {
		s.root = s.app
	}
	s.bindHealth(s.root)
	apiGroup := s.root.Group("/api/v1", noStore, s.apiGate, s.limitRefused, s.authenticate, s.rateLimit)
	s.bindRoutes(apiGroup)
	// Unmatched paths reach errorHandler as fiber.ErrNotFound.
	return s
}

// App returns the Fiber app (for Listen and tests' app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Root returns the router under the base path, for the dashboard's pages.
func (s *Server) Root() fiber.Router { return s.root }

// SetPageErrors makes errors on non-API routes render as pages.
func (s *Server) SetPageErrors(f func(c *fiber.Ctx, err error, status int) error) { s.pageErrors = f }

// Listen serves until ctx ends, then shuts down gracefully.
func (s *Server) Listen(ctx context.Context, addr string) error {
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listen(addr) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return s.app.ShutdownWithContext(context.Background())
	}
}

func isAPI(c *fiber.Ctx) bool {
	return strings.Contains(c.Path(), "/api/") || strings.Contains(c.Get(fiber.HeaderAccept), "json")
}

// pluginReadiness is the plugin registry as /readyz sees it
// (*plugin.Registry implements it).
type pluginReadiness interface {
	Readiness() plugin.Readiness
}

var _ pluginReadiness = (*plugin.Registry)(nil)

// bindHealth binds /healthz (liveness: the process answers) and /readyz
// (readiness: the database answers with its schema applied and every
// enabled plugin has finished loading). While not ready /readyz answers
// 503 with what is still missing, e.g. {"status":"starting",
// "database":"ok","plugins":{"importer-ccda":"loading",...}}.
func (s *Server) bindHealth(r fiber.Router) {
	r.Get("/healthz", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok", "version": s.deps.Version})
	})
	r.Get("/readyz", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		body := fiber.Map{"status": "ready", "database": "ok"}
		ready := true
		if s.deps.DB == nil || !s.deps.DB.Ready() {
			body["status"], body["database"] = "unavailable", "not answering or schema not applied"
			ready = false
		}
		if pr, ok := s.deps.Services.Plugins.(pluginReadiness); ok {
			rd := pr.Readiness()
			body["plugins"] = rd.Plugins
			if !rd.Ready {
				if ready {
					body["status"] = "starting"
				}
				ready = false
			}
		}
		if !ready {
			c.Set(fiber.HeaderRetryAfter, "2")
			return c.Status(fiber.StatusServiceUnavailable).JSON(body)
		}
		return c.JSON(body)
	})
}
