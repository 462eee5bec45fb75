package audit

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
)

// EventName is the OpenTelemetry event name of audit log records.
const EventName = "pfinni.audit"

// emit sends a stored event as an OpenTelemetry log record. The event
// holds no PHI (see Event), so neither does the record.
func (l *Log) emit(ctx context.Context, e Event) {
	var r otellog.Record
	r.SetEventName(EventName)
	r.SetTimestamp(e.At)
	r.SetObservedTimestamp(time.Now())
	sev, text := otellog.SeverityInfo, "INFO"
	switch e.Outcome {
	case OutcomeDenied, OutcomeFailure:
		sev, text = otellog.SeverityWarn, "WARN"
	case OutcomeError:
		sev, text = otellog.SeverityError, "ERROR"
	}
	r.SetSeverity(sev)
	r.SetSeverityText(text)
	r.SetBody(attribute.StringValue(e.Action + " " + e.Outcome))
	r.AddAttributes(
		attribute.Int64("audit.seq", e.Seq),
		attribute.String("audit.actor", e.Actor),
		attribute.String("audit.role", e.Role),
		attribute.String("audit.action", e.Action),
		attribute.String("audit.resource", e.Resource),
		attribute.String("audit.record", e.Record),
		attribute.String("audit.outcome", e.Outcome),
		attribute.String("audit.request_id", e.RequestID),
		attribute.String("client.address", e.IP),
		attribute.String("audit.detail", e.Detail),
		attribute.String("audit.hash", e.Hash),
		attribute.String("audit.key_id", e.KeyID),
	)
	l.logger.Emit(ctx, r)
}

// emitError reports a failure of the Log's own housekeeping (the head
// file) as an OpenTelemetry log record. err names a file, never an event.
func (l *Log) emitError(err error) {
	var r otellog.Record
	r.SetTimestamp(time.Now())
	r.SetSeverity(otellog.SeverityError)
	r.SetSeverityText("ERROR")
	r.SetBody(attribute.StringValue("audit head file not updated: " + err.Error()))
	l.logger.Emit(context.Background(), r)
}
