package app

import (
	"context"
	"fmt"
	"net"
	"net/url"

	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/eligibility"
)

// insurancePlugin is the insurance eligibility adapter (plugins/insurance-x12).
const insurancePlugin = "insurance-x12"

// wireEligibility builds the eligibility service on the patients, the
// audit trail, the plugin registry (the insurance adapter) and the job
// queue (busy payers are retried there; raw X12 is purged after 30 days
// by an hourly job). Call it after wireJobs, before the queue starts.
func (a *App) wireEligibility() error {
	d := eligibility.Deps{DB: a.DB, Patients: a.Patients, Audit: a.Audit, Jobs: a.Jobs, Logger: a.Log}
	if a.Plugins != nil {
		d.Checker = a.Plugins
	}
	svc, err := eligibility.New(d, eligibility.Options{})
	if err != nil {
		return fmt.Errorf("build eligibility service: %w", err)
	}
	if err := svc.RegisterJobs(a.Jobs); err != nil {
		return fmt.Errorf("wire eligibility jobs: %w", err)
	}
	a.Eligibility = svc
	return nil
}

// chatEligibility runs the assistant's eligibility checks through the
// eligibility service, which wireEligibility builds after the chat
// service (it needs the job queue).
type chatEligibility struct{ a *App }

func (c chatEligibility) Check(ctx context.Context, patientID string) (eligibility.Check, error) {
	if c.a.Eligibility == nil {
		return eligibility.Check{}, fmt.Errorf("check eligibility from the chat: %w", eligibility.ErrAdapter)
	}
	return c.a.Eligibility.Check(ctx, patientID)
}

// insuranceConfig adds the operator's clearinghouse endpoint and
// credentials (insurance_url, _user, _password) to the plugin configs;
// without insurance_url the manifest's endpoint (the stub insurer)
// stays.
func insuranceConfig(cfg *config.Config, m map[string]map[string]any) map[string]map[string]any {
	if cfg.InsuranceURL == "" {
		return m
	}
	if m == nil {
		m = map[string]map[string]any{}
	}
	m[insurancePlugin] = map[string]any{"url": cfg.InsuranceURL, "username": cfg.InsuranceUser, "password": cfg.InsurancePassword}
	return m
}

// insuranceHosts adds to m insurance_url's host:port, so that the
// adapter's egress proxy reaches it (and no other host beyond the
// manifest's network.allowedHosts).
func insuranceHosts(cfg *config.Config, m map[string][]string) map[string][]string {
	u, err := url.Parse(cfg.InsuranceURL)
	if cfg.InsuranceURL == "" || err != nil || u.Hostname() == "" {
		return m
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	if m == nil {
		m = map[string][]string{}
	}
	m[insurancePlugin] = []string{net.JoinHostPort(u.Hostname(), port)}
	return m
}
