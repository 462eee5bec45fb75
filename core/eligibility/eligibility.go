// Package eligibility checks a patient's insurance coverage through the
// insurance adapter plugin (plugins/insurance-x12: X12 270/271) and keeps
// every check in SurrealDB (table eligibility_check, schema
// core/store/schema/72_eligibility.surql).
//
// Every check, list and raw-X12 read is audited as the user in the
// context; only admins and staff may check or list, only admins may read
// the raw X12. The raw 270 and 271 are kept 30 days for troubleshooting
// and then removed (docs/insurance.md says why). A payer that answers
// "busy" (AAA reason 42) is asked again from the durable job queue, as
// the same user; nothing else in pfinni waits on an insurer. Logs and
// errors carry record ids, statuses and codes only, never patient data.
//
// core/app builds one Service; core/api and core/dashboard use it. A
// Service is safe for concurrent use.
package eligibility

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/sdk"
)

// Checker asks an insurer (the plugin registry routes it to the
// insurance adapter in service).
type Checker interface {
	CheckEligibility(ctx context.Context, req sdk.EligibilityRequest) (sdk.EligibilityResponse, error)
}

// Patients reads the patient (and their provider) a check is for.
type Patients interface {
	Get(ctx context.Context, id string) (*patient.Patient, error)
	GetProvider(ctx context.Context, id string) (patient.Provider, error)
}

// Auditor records audit events.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Enqueuer puts a retry on the durable job queue.
type Enqueuer interface {
	Enqueue(ctx context.Context, kind string, args any, opt jobs.EnqueueOptions) (jobs.Job, error)
}

// Deps are what a Service needs. Jobs may be nil (busy answers are then
// not retried).
type Deps struct {
	DB       *store.DB
	Patients Patients
	Checker  Checker
	Audit    Auditor
	Jobs     Enqueuer
	Logger   *slog.Logger
}

// Options tune a Service; zero values take the defaults shown.
type Options struct {
	// RawRetention is how long the raw 270/271 of a check are kept (30 days).
	RawRetention time.Duration
	// RetryDelay is how long after a busy answer the check is asked again
	// (30s); later attempts follow the job queue's backoff.
	RetryDelay time.Duration
	// RetryAttempts bounds the retries of a busy payer (5).
	RetryAttempts int
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Service checks and keeps eligibility.
type Service struct {
	d   Deps
	o   Options
	log *slog.Logger
}

// Errors callers decide on (the API maps them to 504 and 503 with their
// own details).
var (
	// ErrTimeout means the insurer did not answer in time; the check is
	// stored with status "error".
	ErrTimeout = errors.New("the insurer did not answer in time")
	// ErrAdapter means the insurance adapter itself failed (not in
	// service, crashed mid-check); nothing was stored.
	ErrAdapter = fault.New(fault.ErrUnavailable, "the insurance adapter is not available")
	// ErrNotAllowed refuses roles other than admin and staff (and raw
	// X12 to all but admins).
	ErrNotAllowed = fault.New(fault.ErrForbidden, "your role may not check insurance eligibility")
	// ErrCheckNotFound means no check has that id (or its raw X12 is no
	// longer kept).
	ErrCheckNotFound = fault.New(fault.ErrNotFound, "no such eligibility check")
	// ErrRawGone means the check's raw X12 is past its retention.
	ErrRawGone = fault.New(fault.ErrNotFound, "the raw X12 of this check is no longer kept (30 days)")
)

// New returns a Service.
func New(d Deps, o Options) (*Service, error) {
	if d.DB == nil || d.Patients == nil || d.Audit == nil {
		return nil, errors.New("eligibility: database, patients and audit are required")
	}
	if o.RawRetention <= 0 {
		o.RawRetention = 30 * 24 * time.Hour
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 30 * time.Second
	}
	if o.RetryAttempts <= 0 {
		o.RetryAttempts = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, o: o, log: log}, nil
}

// Check is one eligibility check as the API shows it.
type Check struct {
	ID            string     `json:"id"`
	PatientID     string     `json:"patient_id"`
	Status        string     `json:"status"` // active | inactive | not_found | error
	Payer         string     `json:"payer"`
	Plan          string     `json:"plan"`
	MemberID      string     `json:"member_id"`
	Coverage      Coverage   `json:"coverage"`
	Benefits      []Benefit  `json:"benefits"`
	Rejection     *Rejection `json:"rejection"`
	Messages      []string   `json:"messages,omitempty"`
	ControlNumber string     `json:"control_number"`
	CheckedAt     time.Time  `json:"checked_at"`
	CheckedBy     string     `json:"checked_by"`
	// RetryAt is set when a busy payer will be asked again then.
	RetryAt *time.Time `json:"retry_at,omitempty"`
}

// Coverage is the plan's dates (YYYY-MM-DD; empty when not given).
type Coverage struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Benefit is one benefit line of the answer.
type Benefit struct {
	ServiceType   string   `json:"service_type"`
	Description   string   `json:"description"`
	CoverageLevel string   `json:"coverage_level"`
	InNetwork     *bool    `json:"in_network"`
	Copay         *float64 `json:"copay"`
	Coinsurance   *float64 `json:"coinsurance"` // 0..1
	Amount        *float64 `json:"amount,omitempty"`
	Code          string   `json:"code"` // X12 EB01
	TimePeriod    string   `json:"time_period,omitempty"`
}

// Rejection is why there is no usable answer, in plain words.
type Rejection struct {
	Code     string `json:"code"`
	Reason   string `json:"reason"`
	FollowUp string `json:"follow_up,omitempty"`
}

// Busy reports whether the payer asked to be asked again later.
func (r *Rejection) Busy() bool { return r != nil && r.Code == "42" }

// X12 is a check's raw exchange.
type X12 struct {
	CheckID  string    `json:"check_id"`
	Request  string    `json:"request"`  // the 270
	Response string    `json:"response"` // the 271 (or what came back instead)
	Until    time.Time `json:"kept_until"`
}

// Summary says a benefit line's amounts in plain words, e.g. "co-pay
// $20.00, in network"; "" when the line carries no amount.
func (b Benefit) Summary() string {
	var parts []string
	switch {
	case b.Copay != nil:
		parts = append(parts, fmt.Sprintf("co-pay $%.2f", *b.Copay))
	case b.Coinsurance != nil:
		parts = append(parts, fmt.Sprintf("co-insurance %g%%", math.Round(*b.Coinsurance*1000)/10))
	case b.Amount != nil:
		parts = append(parts, fmt.Sprintf("$%.2f", *b.Amount))
	default:
		return ""
	}
	if b.TimePeriod == "29" {
		parts[0] += " remaining"
	}
	if b.InNetwork != nil {
		if *b.InNetwork {
			parts = append(parts, "in network")
		} else {
			parts = append(parts, "out of network")
		}
	}
	return strings.Join(parts, ", ")
}

// StatusLabel says a check's status in plain words.
func (c Check) StatusLabel() string {
	switch c.Status {
	case "active":
		return "Covered"
	case "inactive":
		return "Not covered (inactive)"
	case "not_found":
		return "Not found by the insurer"
	}
	return "No answer"
}
