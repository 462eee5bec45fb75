// Package telemetry sets up OpenTelemetry traces, metrics and logs for the
// core. Exporters are OTLP over HTTP, configured by the standard OTEL_*
// environment variables (OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, ...), so
// Pydantic Logfire or any collector can receive them. With none of those
// variables set, everything is a no-op and costs nothing.
//
// Providers are returned, never installed as globals, and passed to the
// packages that use them.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/log"
	lognoop "go.opentelemetry.io/otel/log/noop"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Providers are the three signal providers and their shutdown.
type Providers struct {
	Tracer   trace.TracerProvider
	Meter    metric.MeterProvider
	Logger   log.LoggerProvider
	shutdown []func(context.Context) error
}

// Enabled reports whether the environment asks for OTLP export.
func Enabled(environ []string) bool {
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if v == "" {
			continue
		}
		switch k {
		case "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
			"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT":
			return true
		}
	}
	return false
}

// Noop returns providers that record nothing.
func Noop() *Providers {
	return &Providers{Tracer: tracenoop.NewTracerProvider(), Meter: metricnoop.NewMeterProvider(), Logger: lognoop.NewLoggerProvider()}
}

// Setup returns OTLP providers when OTEL_* variables ask for them, else
// no-op providers.
func Setup(ctx context.Context, version string) (*Providers, error) {
	if !Enabled(os.Environ()) || os.Getenv("OTEL_SDK_DISABLED") == "true" {
		return Noop(), nil
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", envOr("OTEL_SERVICE_NAME", "pfinni")), attribute.String("service.version", version)))
	if err != nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	te, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	me, err := otlpmetrichttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp metric exporter: %w", err)
	}
	le, err := otlploghttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp log exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(te), sdktrace.WithResource(res))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me)), sdkmetric.WithResource(res))
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(le)), sdklog.WithResource(res))
	return &Providers{Tracer: tp, Meter: mp, Logger: lp,
		shutdown: []func(context.Context) error{tp.Shutdown, mp.Shutdown, lp.Shutdown}}, nil
}

// Shutdown flushes and stops the exporters.
func (p *Providers) Shutdown(ctx context.Context) error {
	var errs []error
	for _, f := range p.shutdown {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
