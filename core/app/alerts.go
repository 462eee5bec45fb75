package app

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pfinni/pfinni/core/alerts"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/webhooks"
)

// alertHooks connects the patient service, the importer, the plugin
// registry and the e-mail digest to the alert service. Like
// webhookHooks it exists before them (they take it as their observer)
// and gets the service in wireAlerts; until then it does nothing.
type alertHooks struct {
	svc atomic.Pointer[alerts.Service]
}

var (
	_ patient.Observer        = (*alertHooks)(nil)
	_ importer.FinishObserver = (*alertHooks)(nil)
)

// PatientChanged queues the status-change rule.
func (h *alertHooks) PatientChanged(ctx context.Context, c patient.Committed) {
	if s := h.svc.Load(); s != nil {
		s.PatientChanged(ctx, c)
	}
}

// ImportFinished queues the import rule with the job's counts.
func (h *alertHooks) ImportFinished(ctx context.Context, jobID string, c importer.Counts) {
	if s := h.svc.Load(); s != nil {
		s.ImportFinished(ctx, jobID, map[string]int{
			"created": c.Created, "updated": c.Updated, "unchanged": c.Unchanged, "rejected": c.Rejected})
	}
}

// pluginOut raises plugin_out_of_service (the registry's breaker hook).
func (h *alertHooks) pluginOut(name string) {
	if s := h.svc.Load(); s != nil {
		s.PluginOutOfService(context.Background(), name)
	}
}

// UnreadFor counts user's unread alerts for the e-mail digest.
func (h *alertHooks) UnreadFor(ctx context.Context, user string) (int, error) {
	if s := h.svc.Load(); s != nil {
		return s.UnreadFor(ctx, user)
	}
	return 0, nil
}

// UnreadCounts counts the caller's unread alerts by kind (the
// assistant's "any alerts?").
func (h *alertHooks) UnreadCounts(ctx context.Context) (map[string]int, error) {
	if s := h.svc.Load(); s != nil {
		return s.UnreadCounts(ctx)
	}
	return map[string]int{}, nil
}

// patientObservers tells each observer of a committed patient write.
type patientObservers []patient.Observer

func (os patientObservers) PatientChanged(ctx context.Context, c patient.Committed) {
	for _, o := range os {
		o.PatientChanged(ctx, c)
	}
}

// finishObservers tells each observer of a finished import.
type finishObservers []importer.FinishObserver

func (os finishObservers) ImportFinished(ctx context.Context, jobID string, c importer.Counts) {
	for _, o := range os {
		o.ImportFinished(ctx, jobID, c)
	}
}

// alertPublisher sends alert.raised through the webhook service.
type alertPublisher struct{ hooks *webhookHooks }

func (p alertPublisher) AlertRaised(ctx context.Context, eventID string, kind alerts.Kind, patientID string) {
	p.hooks.publish(ctx, webhooks.Alert(eventID, string(kind), patientID), "alert/"+eventID)
}

// wireAlerts builds the alert service, registers its rules on the job
// queue and hands it to the hooks. Call it after wireWebhooks, before
// the queue starts.
func (a *App) wireAlerts(ctx context.Context) error {
	cfg := a.Config
	svc, err := alerts.New(ctx, alerts.Deps{
		DB: a.DB, Patients: a.Patients, Publisher: alertPublisher{a.hooks()}, Logger: a.Log,
		Location: a.Patients.Location(), Now: time.Now,
	}, alerts.Options{OnboardingDays: cfg.AlertOnboardingDays, BirthdaySchedule: cfg.AlertBirthdayCron,
		OnboardingSchedule: cfg.AlertOnboardingCron})
	if err != nil {
		return fmt.Errorf("wire alerts: %w", err)
	}
	a.closers = append(a.closers, func(context.Context) error { return svc.Close() })
	if err := svc.Register(a.Jobs); err != nil {
		return fmt.Errorf("wire alerts: %w", err)
	}
	a.Alerts = svc
	a.alerting().svc.Store(svc)
	return nil
}

// alerting returns the process's alert hooks, made on first use.
func (a *App) alerting() *alertHooks {
	if a.alertHooks == nil {
		a.alertHooks = &alertHooks{}
	}
	return a.alertHooks
}
