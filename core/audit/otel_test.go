package audit_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// memExporter keeps exported log records in memory.
type memExporter struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (m *memExporter) Export(_ context.Context, rs []sdklog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		m.records = append(m.records, r.Clone())
	}
	return nil
}
func (m *memExporter) Shutdown(context.Context) error   { return nil }
func (m *memExporter) ForceFlush(context.Context) error { return nil }

var _ sdklog.Exporter = (*memExporter)(nil)

func TestEventsAreEmittedAsLogRecords(t *testing.T) {
	exp := &memExporter{}
	provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{Logs: provider})

	require.NoError(t, l.Record(staff, audit.Event{Action: "patient.update", Resource: "patient", Record: "patient:p9",
		Outcome: audit.OutcomeDenied, Detail: "fields: phone, email"}))
	require.NoError(t, l.Record(staff, audit.Event{Action: "patient.read", Resource: "patient", Record: "patient:p9", Outcome: audit.OutcomeError}))

	stored := rawEvents(t, db)
	exp.mu.Lock()
	defer exp.mu.Unlock()
	require.Len(t, exp.records, 2)
	r := exp.records[0]
	assert.Equal(t, audit.EventName, r.EventName())
	assert.Equal(t, otellog.SeverityWarn, r.Severity())
	assert.Equal(t, otellog.SeverityError, exp.records[1].Severity())
	assert.Equal(t, "patient.update denied", r.Body().AsString())
	assert.Equal(t, stored[0].At, r.Timestamp())
	assert.Equal(t, "github.com/pfinni/pfinni/core/audit", r.InstrumentationScope().Name)

	got := map[string]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		got[string(kv.Key)] = kv.Value
		return true
	})
	want := map[string]attribute.Value{
		"audit.seq":        attribute.Int64Value(1),
		"audit.actor":      attribute.StringValue("u_staff"),
		"audit.role":       attribute.StringValue("staff"),
		"audit.action":     attribute.StringValue("patient.update"),
		"audit.resource":   attribute.StringValue("patient"),
		"audit.record":     attribute.StringValue("patient:p9"),
		"audit.outcome":    attribute.StringValue("denied"),
		"audit.request_id": attribute.StringValue("req-u_staff"),
		"client.address":   attribute.StringValue("10.0.0.7"),
		"audit.detail":     attribute.StringValue("fields: phone, email"),
		"audit.hash":       attribute.StringValue(stored[0].Hash),
		"audit.key_id":     attribute.StringValue(stored[0].KeyID),
	}
	assert.Equal(t, want, got, "exactly the event's fields: ids, action, outcome, field names — no PHI")
}

func TestNoRecordForFailedEvents(t *testing.T) {
	exp := &memExporter{}
	provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{Logs: provider})
	require.Error(t, l.Record(staff, audit.Event{Action: "x"}))
	exp.mu.Lock()
	defer exp.mu.Unlock()
	assert.Empty(t, exp.records)
}
