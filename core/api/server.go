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
	limits *rateLimiter
	// pageErrors renders errors of non-API routes (the dashboard) as
	// pages; nil means problem+json everywhere.
	pageErrors func(c *fiber.Ctx, err error, status int) error
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
		deps:   d,
		cfg:    d.Config,
		log:    d.Logger,
		tracer: d.Tracer.Tracer("github.com/pfinni/pfinni/core/api"),
		limits: newRateLimiter(d.Config.APIRateLimit),
	}
	bodyLimit := d.Config.ImportMaxBytes*20 + (1 << 20)
	s.app = fiber.New(fiber.Config{
		AppName: "pfinni",
		// Fiber hands out strings that alias its reused request buffers;
		// a form value stored in the patient directory changed under us
		// on the next request (caught by a dashboard test). Immutable
		// copies them.
		Immutable:             true,
		ErrorHandler:          s.errorHandler,
		BodyLimit:             bodyLimit,
		DisableStartupMessage: true,
		ReadBufferSize:        16 << 10,
		StreamRequestBody:     false,
	})
	s.app.Use(s.recoverMiddleware, s.requestIDMiddleware, s.securityHeaders, s.accessLog, s.traceMiddleware)

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
	apiGroup := s.root.Group("/api/v1", s.apiGate, s.rateLimit, s.jsonBodyLimit, s.authenticate)
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

func (s *Server) bindHealth(r fiber.Router) {
	r.Get("/healthz", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok", "version": s.deps.Version})
	})
	r.Get("/readyz", func(c *fiber.Ctx) error {
		if s.deps.DB == nil || !s.deps.DB.Ready() {
			c.Set(fiber.HeaderRetryAfter, "2")
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "database": "not answering or schema not applied"})
		}
		return c.JSON(fiber.Map{"status": "ready", "database": "ok"})
	})
}
