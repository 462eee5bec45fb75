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
}

// Benefit is one coverage line of an eligibility response.
type Benefit struct {
	ServiceType string  `json:"service_type"`
	InNetwork   bool    `json:"in_network"`
	Copay       float64 `json:"copay,omitempty"`
	Coinsurance float64 `json:"coinsurance,omitempty"` // 0..1
	Deductible  float64 `json:"deductible,omitempty"`
	Remaining   float64 `json:"remaining,omitempty"`
}
