package telemetry_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// collector is a fake OTLP/HTTP receiver (protobuf, as Logfire and the
// OpenTelemetry Collector accept it): it decodes what the exporters send
// to /v1/traces, /v1/metrics and /v1/logs and keeps it, with the
// Authorization header of each request. It stands in for Logfire, which
// this machine cannot reach.
type collector struct {
	srv *httptest.Server

	mu      sync.Mutex
	auth    []string
	traces  []*coltrace.ExportTraceServiceRequest
	metrics []*colmetrics.ExportMetricsServiceRequest
	logs    []*collogs.ExportLogsServiceRequest
	bad     []string
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err == nil && r.Header.Get("Content-Encoding") == "gzip" {
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(body)); err == nil {
			body, err = io.ReadAll(zr)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.auth = append(c.auth, r.Header.Get("Authorization"))
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		c.bad = append(c.bad, r.URL.Path+": "+r.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	var msg proto.Message
	switch r.URL.Path {
	case "/v1/traces":
		m := &coltrace.ExportTraceServiceRequest{}
		c.traces, msg = append(c.traces, m), m
	case "/v1/metrics":
		m := &colmetrics.ExportMetricsServiceRequest{}
		c.metrics, msg = append(c.metrics, m), m
	case "/v1/logs":
		m := &collogs.ExportLogsServiceRequest{}
		c.logs, msg = append(c.logs, m), m
	default:
		c.bad = append(c.bad, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err := proto.Unmarshal(body, msg); err != nil {
		c.bad = append(c.bad, r.URL.Path+": "+err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// spans returns every span received, with its resource's attributes.
func (c *collector) spans() (out []*tracepb.Span, resources [][]*commonpb.KeyValue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, req := range c.traces {
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, s)
					resources = append(resources, rs.GetResource().GetAttributes())
				}
			}
		}
	}
	return out, resources
}

// metric returns the metrics received with the name.
func (c *collector) metric(name string) []*metricspb.Metric {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*metricspb.Metric
	for _, req := range c.metrics {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					if m.Name == name {
						out = append(out, m)
					}
				}
			}
		}
	}
	return out
}

// logRecords returns every log record received.
func (c *collector) logRecords() []*logspb.LogRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*logspb.LogRecord
	for _, req := range c.logs {
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				out = append(out, sl.LogRecords...)
			}
		}
	}
	return out
}

// attr finds a string (or int, as text) attribute.
func attr(kvs []*commonpb.KeyValue, key string) (string, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			if s, ok := kv.Value.GetValue().(*commonpb.AnyValue_StringValue); ok {
				return s.StringValue, true
			}
			return kv.Value.String(), true
		}
	}
	return "", false
}
