package eligibility

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	pluginfault "github.com/pfinni/pfinni/core/plugin/fault"
	"github.com/pfinni/pfinni/sdk"
)

// Audit actions.
const (
	actionCheck = "eligibility.check"
	actionList  = "eligibility.list"
	actionX12   = "eligibility.x12.read"
)

// Check asks the insurer whether patient id is covered today (service
// type 30, health benefit plan coverage), stores the answer and returns
// it. A patient without a payer or member id is a field error. A timeout
// stores the check (status "error") and returns it with an error
// wrapping ErrTimeout; a failed adapter returns ErrAdapter and stores
// nothing. A busy payer's check is stored and retried from the job
// queue (RetryAt says when).
func (s *Service) Check(ctx context.Context, id string) (Check, error) {
	return s.check(ctx, id, false)
}

func (s *Service) check(ctx context.Context, id string, retry bool) (Check, error) {
	if err := s.authorize(ctx, actionCheck, "patient", id, false); err != nil {
		return Check{}, err
	}
	p, err := s.d.Patients.Get(ctx, id)
	if err != nil {
		return Check{}, fmt.Errorf("check eligibility: %w", err)
	}
	var missing fault.Fields
	if strings.TrimSpace(p.Insurance.Payer) == "" {
		missing.Add("insurance.payer", "Add the patient's insurance payer before checking eligibility.")
	}
	if strings.TrimSpace(p.Insurance.MemberID) == "" {
		missing.Add("insurance.member_id", "Add the patient's member id before checking eligibility.")
	}
	if err := missing.Err(); err != nil {
		return Check{}, s.audited(ctx, actionCheck, "patient", id, audit.OutcomeFailure, "invalid=insurance", err)
	}
	if s.d.Checker == nil {
		return Check{}, s.audited(ctx, actionCheck, "patient", id, audit.OutcomeError, "adapter=none", ErrAdapter)
	}
	ctl, err := controlNumber()
	if err != nil {
		return Check{}, fmt.Errorf("check eligibility: %w", err)
	}
	now := s.o.Now().UTC()
	req := sdk.EligibilityRequest{
		Payer: p.Insurance.Payer, MemberID: p.Insurance.MemberID, Group: p.Insurance.Group,
		FirstName: p.FirstName, LastName: p.LastName, ServiceDate: now.Format(time.DateOnly), ServiceType: "30",
		ControlNumber: strconv.Itoa(ctl),
	}
	if _, err := time.Parse(time.DateOnly, p.DateOfBirth); err == nil {
		req.DateOfBirth = p.DateOfBirth
	}
	if p.ProviderID != "" {
		if pr, err := s.d.Patients.GetProvider(ctx, p.ProviderID); err == nil {
			req.ProviderNPI, req.ProviderName = pr.NPI, cmpOr(pr.Organization, pr.Name)
		}
	}
	res, err := s.d.Checker.CheckEligibility(ctx, req)
	if err != nil {
		switch {
		case pluginfault.KindOf(err) == pluginfault.Timeout:
			// The host's own limit on the adapter fired before the
			// adapter's timeout: still a timeout, and stored as one.
			res = sdk.EligibilityResponse{Status: "error", ControlNumber: fmt.Sprintf("%09d", ctl),
				Rejection: &sdk.Rejection{Code: "timeout", Reason: "The insurance adapter did not answer in time. Nothing was changed; try again later."}}
		case sdk.CodeOf(err) == sdk.CodeInvalidInput:
			return Check{}, s.audited(ctx, actionCheck, "patient", id, audit.OutcomeFailure, "adapter=invalid_input",
				fault.New(fault.ErrInvalid, "the insurance adapter refused the patient's insurance details"))
		default:
			kind := string(pluginfault.KindOf(err))
			s.log.Warn("eligibility check failed in the adapter", "patient", id, "fault", cmpOr(kind, sdk.CodeOf(err)))
			return Check{}, s.audited(ctx, actionCheck, "patient", id, audit.OutcomeError, "adapter="+cmpOr(kind, "error"),
				fmt.Errorf("check eligibility: %w", ErrAdapter))
		}
	}
	c := normalize(res)
	c.PatientID, c.CheckedAt, c.CheckedBy = id, now.Truncate(time.Millisecond), actor.From(ctx).UserID
	if c.ControlNumber == "" {
		c.ControlNumber = fmt.Sprintf("%09d", ctl)
	}
	if c.Rejection.Busy() && !retry && s.d.Jobs != nil {
		at := now.Add(s.o.RetryDelay).Truncate(time.Millisecond)
		c.RetryAt = &at
	}
	if err := s.save(ctx, &c, res.Request, res.Raw); err != nil {
		return Check{}, s.audited(ctx, actionCheck, "patient", id, audit.OutcomeError, "store", err)
	}
	detail := "check=" + c.ID + " status=" + c.Status
	if c.Rejection != nil {
		detail += " reason=" + c.Rejection.Code
	}
	if err := s.audited(ctx, actionCheck, "patient", id, audit.OutcomeSuccess, detail, nil); err != nil {
		return Check{}, err
	}
	if c.RetryAt != nil {
		if err := s.enqueueRetry(ctx, id, *c.RetryAt); err != nil {
			s.log.Warn("eligibility retry not queued", "patient", id, "check", c.ID, "err", err)
			c.RetryAt = nil
		}
	}
	s.log.Info("eligibility checked", "patient", id, "check", c.ID, "status", c.Status, "control", c.ControlNumber)
	if c.Rejection != nil && c.Rejection.Code == "timeout" {
		return c, fmt.Errorf("check eligibility: %w", ErrTimeout)
	}
	return c, nil
}

// normalize turns the adapter's answer into a Check. Statuses outside
// the four are "error": pfinni never shows coverage the answer did not
// state.
func normalize(res sdk.EligibilityResponse) Check {
	c := Check{Status: res.Status, Payer: res.Payer, Plan: res.PlanName, MemberID: res.MemberID,
		Coverage: Coverage{Start: res.CoverageStart, End: res.CoverageEnd}, Benefits: []Benefit{},
		Messages: res.Messages, ControlNumber: res.ControlNumber}
	switch c.Status {
	case "active", "inactive", "not_found", "error":
	default:
		c.Status = "error"
		if res.Rejection == nil {
			res.Rejection = &sdk.Rejection{Code: "unknown", Reason: "The insurer's answer states neither active nor inactive coverage."}
		}
	}
	if res.Rejection != nil {
		c.Rejection = &Rejection{Code: res.Rejection.Code, Reason: res.Rejection.Reason, FollowUp: res.Rejection.FollowUp}
	}
	for _, b := range res.Coverage {
		out := Benefit{ServiceType: b.ServiceType, Description: b.Description, CoverageLevel: b.CoverageLevel,
			Code: b.Code, TimePeriod: b.TimePeriod}
		if b.NetworkKnown {
			in := b.InNetwork
			out.InNetwork = &in
		}
		if b.Code == "B" || b.Copay != 0 {
			v := b.Copay
			out.Copay = &v
		}
		if b.Code == "A" || b.Coinsurance != 0 {
			v := b.Coinsurance
			out.Coinsurance = &v
		}
		if b.Amount != 0 {
			v := b.Amount
			out.Amount = &v
		}
		c.Benefits = append(c.Benefits, out)
	}
	return c
}

// authorize refuses anonymous callers and roles other than admin and
// staff (or other than admin for adminOnly), auditing the refusal.
func (s *Service) authorize(ctx context.Context, action, resource, record string, adminOnly bool) error {
	a := actor.From(ctx)
	switch {
	case a.Anonymous():
		return fault.New(fault.ErrUnauthorized, "sign in to check insurance eligibility")
	case a.Role == actor.RoleAdmin || a.Role == actor.RoleSystem:
		return nil
	case a.Role == actor.RoleStaff && !adminOnly:
		return nil
	}
	err := ErrNotAllowed
	if adminOnly {
		err = fault.New(fault.ErrForbidden, "only an admin may read the raw X12 of a check")
	}
	return s.audited(ctx, action, resource, record, audit.OutcomeDenied, "", err)
}

// audited records one event for the caller and returns err, or the
// audit failure (an unaudited action is refused).
func (s *Service) audited(ctx context.Context, action, resource, record, outcome, detail string, err error) error {
	if aerr := s.d.Audit.Record(ctx, audit.Event{Action: action, Resource: resource, Record: record, Outcome: outcome, Detail: detail}); aerr != nil {
		return fmt.Errorf("%s: audit: %w", action, aerr)
	}
	return err
}

// controlNumber is a random interchange control number, 1..999999999.
func controlNumber() (int, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("control number: %w", err)
	}
	return int(binary.BigEndian.Uint32(b[:])%999_999_999) + 1, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// retryArgs are a busy check's retry job's arguments: record ids and
// the user the retry acts as, never patient data.
type retryArgs struct {
	Patient string `json:"patient"`
	User    string `json:"user"`
	Role    string `json:"role"`
}

// RetryKind is the job that asks a busy payer again.
const RetryKind = "eligibility.retry"

// PurgeKind is the hourly job that removes raw X12 past its retention.
const PurgeKind = "eligibility.purge_x12"

func (s *Service) enqueueRetry(ctx context.Context, patientID string, at time.Time) error {
	a := actor.From(ctx)
	_, err := s.d.Jobs.Enqueue(ctx, RetryKind, retryArgs{Patient: patientID, User: a.UserID, Role: string(a.Role)},
		jobs.EnqueueOptions{RunAt: at, MaxAttempts: s.o.RetryAttempts, UniqueKey: "eligibility:patient/" + patientID})
	if err != nil {
		return fmt.Errorf("queue eligibility retry: %w", err)
	}
	return nil
}

// errStillBusy makes the job queue retry a check whose payer is still
// busy (with its backoff, up to RetryAttempts).
var errStillBusy = errors.New("payer still busy")

// Registrar is the part of the job queue RegisterJobs needs.
type Registrar interface {
	Register(kind string, h jobs.Handler) error
	Schedule(name, spec, kind string, args any) error
}

// RegisterJobs registers the retry and purge jobs on q and schedules the
// purge hourly. Call it before the queue starts.
func (s *Service) RegisterJobs(q Registrar) error {
	if err := q.Register(RetryKind, jobs.HandlerFunc(s.retry)); err != nil {
		return fmt.Errorf("register %s: %w", RetryKind, err)
	}
	if err := q.Register(PurgeKind, jobs.HandlerFunc(func(ctx context.Context, _ jobs.Job) error {
		_, err := s.PurgeRaw(ctx)
		return err
	})); err != nil {
		return fmt.Errorf("register %s: %w", PurgeKind, err)
	}
	return q.Schedule(PurgeKind, "@hourly", PurgeKind, nil)
}

// retry runs one attempt of a busy check's retry, as the user who asked.
func (s *Service) retry(ctx context.Context, j jobs.Job) error {
	var args retryArgs
	if err := j.Bind(&args); err != nil {
		return jobs.Permanent(err)
	}
	ctx = actor.With(ctx, actor.Actor{UserID: args.User, Role: actor.Role(args.Role), RequestID: "job-" + j.ID})
	c, err := s.check(ctx, args.Patient, true)
	switch {
	case errors.Is(err, fault.ErrInvalid), errors.Is(err, fault.ErrNotFound), errors.Is(err, fault.ErrForbidden), errors.Is(err, fault.ErrUnauthorized):
		return jobs.Permanent(err)
	case err != nil && !errors.Is(err, ErrTimeout):
		return err
	case c.Rejection.Busy():
		return errStillBusy
	}
	return nil
}
