package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/webhooks"
)

// webhookHooks connects the patient service and the importer to the
// webhook publisher. It exists before either (they take it as their
// observer) and gets the publisher in wireWebhooks, after the job
// queue; writes made before that (none while serving) publish nothing.
type webhookHooks struct {
	log *slog.Logger
	pub atomic.Pointer[webhooks.Service]
}

var (
	_ patient.Observer        = (*webhookHooks)(nil)
	_ importer.FinishObserver = (*webhookHooks)(nil)
)

// publish sends e without failing the write that caused it: the write is
// committed; a failure to queue the event is logged with the record id.
// The request's cancellation does not stop it.
func (h *webhookHooks) publish(ctx context.Context, e webhooks.Event, record string) {
	pub := h.pub.Load()
	if pub == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := pub.Publish(ctx, e); err != nil {
		h.log.Error("queue webhook event", "event", string(e.Type), "record", record, "err", err)
	}
}

// PatientChanged publishes the events of the patient's committed
// writes (patient.created, .updated, .status_changed, .deleted), derived
// from patient_history, which the write stored in its own transaction.
// If this process dies before it runs, the webhook sweep publishes them
// with the same webhook-id (core/webhooks sweep.go).
func (h *webhookHooks) PatientChanged(ctx context.Context, c patient.Committed) {
	pub := h.pub.Load()
	if pub == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := pub.PublishPatient(ctx, c.PatientID); err != nil {
		h.log.Error("queue webhook event", "event", "patient."+c.Action, "record", "patient/"+c.PatientID, "err", err)
	}
}

// ImportFinished publishes import.finished with the job's counts.
func (h *webhookHooks) ImportFinished(ctx context.Context, jobID string, c importer.Counts) {
	h.publish(ctx, webhooks.ImportDone(jobID, "done", map[string]int{
		"created": c.Created, "updated": c.Updated, "unchanged": c.Unchanged, "rejected": c.Rejected}), "import_job/"+jobID)
}

// wireWebhooks builds the webhook service on the job queue and hands it
// to the hooks. Call it after wireJobs, before the queue starts.
func (a *App) wireWebhooks(ctx context.Context) error {
	cfg := a.Config
	delays, err := cfg.WebhookRetryDelays()
	if err != nil {
		return fmt.Errorf("wire webhooks: %w", err)
	}
	key, err := webhooks.LoadKey(cfg.WebhookKeyPath())
	if err != nil {
		return fmt.Errorf("wire webhooks: %w", err)
	}
	svc, err := webhooks.New(a.DB, a.Jobs, key, webhooks.Options{Schedule: delays, AllowPrivate: cfg.WebhookAllowPrivate,
		RotationGrace: cfg.WebhookRotationGrace, Logger: a.Log, Audit: a.Audit})
	if err != nil {
		return fmt.Errorf("wire webhooks: %w", err)
	}
	if err := svc.Register(a.Jobs); err != nil {
		return fmt.Errorf("wire webhooks: %w", err)
	}
	if err := svc.Init(ctx); err != nil {
		// Not fatal: the first publish starts the cursor itself, one
		// overlap back (core/webhooks sweep.go).
		a.Log.Warn("webhooks", "err", err)
	}
	a.Webhooks = svc
	a.hooks().pub.Store(svc)
	return nil
}

// hooks returns the process's webhook hooks, made on first use.
func (a *App) hooks() *webhookHooks {
	if a.webhookHooks == nil {
		a.webhookHooks = &webhookHooks{log: a.Log}
	}
	return a.webhookHooks
}
