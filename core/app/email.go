package app

import (
	"fmt"
	"strings"

	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/email"
)

// wireEmail builds the e-mail service: the Resend adapter when
// resend_api_key is set, else off (invitations then show the one-time
// link to the admin). Its handlers and the daily digest schedule go on
// the job queue. Call it after wireJobs, before the queue starts.
func (a *App) wireEmail() error {
	cfg := a.Config
	var sender email.Sender
	if cfg.ResendAPIKey != "" {
		r, err := email.NewResend(cfg.ResendAPIKey, cfg.ResendBaseURL, cfg.EmailFrom)
		if err != nil {
			return fmt.Errorf("build e-mail sender: %w", err)
		}
		sender = r
	}
	a.Email = email.New(a.DB, a.Jobs, sender, a.Auth, a.Audit, email.Options{BaseURL: emailBaseURL(cfg), Logger: a.Log,
		OnboardingDays: cfg.AlertOnboardingDays, Alerts: a.alerting(), ProviderWebhookSecret: cfg.ResendWebhookSecret})
	if err := a.Email.Register(a.Jobs); err != nil {
		return fmt.Errorf("wire e-mail jobs: %w", err)
	}
	return nil
}

// emailBaseURL is the root of the links in e-mails: public_url, else the
// listen address (right for one machine only; set public_url).
func emailBaseURL(cfg *config.Config) string {
	if cfg.PublicURL != "" {
		return strings.TrimSuffix(cfg.PublicURL, "/")
	}
	return "http://" + cfg.HTTPAddr + cfg.BasePath
}
