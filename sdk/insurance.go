package sdk

import "context"

// InsuranceAdapter checks coverage with an insurer (X12 270/271 or a
// payer's API). It is the one plugin kind that needs the network, so it is
// built as a process plugin (sdk/process).
type InsuranceAdapter interface {
	CheckEligibility(ctx context.Context, req EligibilityRequest) (EligibilityResponse, error)
}

// EligibilityRequest is the minimum an insurer needs (X12 270 subset).
type EligibilityRequest struct {
	Payer       string `json:"payer"`
	MemberID    string `json:"member_id"`
	Group       string `json:"group,omitempty"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	DateOfBirth string `json:"date_of_birth"`          // YYYY-MM-DD
	ServiceDate string `json:"service_date,omitempty"` // YYYY-MM-DD; empty means today
	ServiceType string `json:"service_type,omitempty"` // X12 service type code, "30" = plan coverage
	ProviderNPI string `json:"provider_npi,omitempty"`
	// Added in 1.x (optional): the requesting provider's name (X12
	// 2100B NM103) and the host's trace number for the request.
	ProviderName  string `json:"provider_name,omitempty"`
	ControlNumber string `json:"control_number,omitempty"`
}

// EligibilityResponse is the insurer's answer (X12 271 subset).
type EligibilityResponse struct {
	Status    string    `json:"status"` // active | inactive | unknown
	PlanName  string    `json:"plan_name,omitempty"`
	Coverage  []Benefit `json:"coverage,omitempty"`
	CheckedAt string    `json:"checked_at,omitempty"` // RFC 3339
	Reference string    `json:"reference,omitempty"`  // insurer's trace number
	Messages  []string  `json:"messages,omitempty"`   // insurer's remarks, plain words
	Raw       string    `json:"raw,omitempty"`        // the 271 as received, when available

	// Added in 1.x (optional; older hosts ignore them). Status may then
	// also be "not_found" (the insurer does not know the subscriber) or
	// "error" (no usable answer: see Rejection).
	Payer         string     `json:"payer,omitempty"`          // the payer's name as the insurer answered it
	MemberID      string     `json:"member_id,omitempty"`      // the member id as the insurer answered it (a correction, if any)
	CoverageStart string     `json:"coverage_start,omitempty"` // YYYY-MM-DD
	CoverageEnd   string     `json:"coverage_end,omitempty"`   // YYYY-MM-DD
	Rejection     *Rejection `json:"rejection,omitempty"`
	ControlNumber string     `json:"control_number,omitempty"` // the interchange control number of the request
	Request       string     `json:"request,omitempty"`        // the request as sent (the 270), when available
}

// Rejection is why an insurer (or the way to it) gave no usable answer:
// an X12 AAA reason code ("75" subscriber not found, "42" unable to
// respond now, ...) or one of the adapter's own codes ("timeout",
// "unreachable", "invalid_response").
type Rejection struct {
	Code     string `json:"code"`
	Reason   string `json:"reason"`              // plain words
	FollowUp string `json:"follow_up,omitempty"` // X12 follow-up action: C correct and resubmit, N do not resubmit, R resubmit
}

// Benefit is one coverage line of an eligibility response.
type Benefit struct {
	ServiceType string  `json:"service_type"`
	InNetwork   bool    `json:"in_network"`
	Copay       float64 `json:"copay,omitempty"`
	Coinsurance float64 `json:"coinsurance,omitempty"` // 0..1
	Deductible  float64 `json:"deductible,omitempty"`
	Remaining   float64 `json:"remaining,omitempty"`

	// Added in 1.x (optional).
	Amount        float64 `json:"amount,omitempty"`         // X12 EB07, the line's monetary amount
	Code          string  `json:"code,omitempty"`           // X12 EB01: 1 active, 6 inactive, A co-insurance, B co-payment, C deductible, ...
	Description   string  `json:"description,omitempty"`    // plain words for the line
	CoverageLevel string  `json:"coverage_level,omitempty"` // X12 EB02: IND, FAM, ...
	InsuranceType string  `json:"insurance_type,omitempty"` // X12 EB04
	Plan          string  `json:"plan,omitempty"`           // X12 EB05
	TimePeriod    string  `json:"time_period,omitempty"`    // X12 EB06
	NetworkKnown  bool    `json:"network_known,omitempty"`  // EB12 was given (InNetwork is meaningful)
}
