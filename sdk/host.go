package sdk

import "context"

// Host is the plugin's door to the pfinni core. Every operation is checked
// against the capabilities the manifest grants the plugin; a refused call
// returns an *Error with CodeCapabilityDenied. Operations run as the user
// on whose behalf the host called the plugin, and reading patients is
// audited as that user.
//
// Inside a WASM plugin, HostFrom returns the real host. In unit tests,
// WithHost installs a fake (see sdk/sdktest).
type Host interface {
	// SearchPatients returns the minimum-necessary fields of matching
	// patients (capability patients:read).
	SearchPatients(ctx context.Context, q PatientQuery) (PatientList, error)
	// KBSearch searches the knowledge base (capability kb:read).
	KBSearch(ctx context.Context, req KBSearchRequest) (KBSearchResult, error)
	// Log writes one line to the core's log (capability log). The host
	// redacts anything that looks like PHI; do not log patient data.
	Log(ctx context.Context, level LogLevel, msg string)
}

// LogLevel is the level of a guest log line.
type LogLevel int32

// Log levels, matching log/slog's numbering.
const (
	LogDebug LogLevel = -4
	LogInfo  LogLevel = 0
	LogWarn  LogLevel = 4
	LogError LogLevel = 8
)

// PatientQuery filters patients for Host.SearchPatients. Zero fields do
// not filter.
type PatientQuery struct {
	Text               string `json:"text,omitempty"`   // free text over name / MRN
	Status             string `json:"status,omitempty"` // onboarding | active | inactive | churned
	ProviderID         string `json:"provider_id,omitempty"`
	BirthdayWithinDays int    `json:"birthday_within_days,omitempty"`
	UpdatedSince       string `json:"updated_since,omitempty"` // RFC 3339
	Limit              int    `json:"limit,omitempty"`         // the host caps it (100)
}

// PatientList is the answer to a PatientQuery.
type PatientList struct {
	Patients []PatientSummary `json:"patients"`
	Total    int              `json:"total"` // all matches, not only those returned
}

// PatientSummary is the minimum-necessary view of a patient a plugin may
// see: enough to name and link a record, nothing more (no date of birth,
// contact, address or insurance).
type PatientSummary struct {
	ID         string `json:"id"`
	MRN        string `json:"mrn"`
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	Status     string `json:"status"`
	ProviderID string `json:"provider_id,omitempty"`
	UpdatedAt  string `json:"updated_at,omitempty"`
}

type hostKey struct{}

// WithHost returns a context carrying h; runtimes and tests use it.
func WithHost(ctx context.Context, h Host) context.Context {
	return context.WithValue(ctx, hostKey{}, h)
}

// HostFrom returns the Host carried by ctx, or one whose operations fail
// with ErrNoHost.
func HostFrom(ctx context.Context) Host {
	if h, ok := ctx.Value(hostKey{}).(Host); ok && h != nil {
		return h
	}
	return noHost{}
}

type noHost struct{}

func (noHost) SearchPatients(context.Context, PatientQuery) (PatientList, error) {
	return PatientList{}, ErrNoHost
}
func (noHost) KBSearch(context.Context, KBSearchRequest) (KBSearchResult, error) {
	return KBSearchResult{}, ErrNoHost
}
func (noHost) Log(context.Context, LogLevel, string) {}
