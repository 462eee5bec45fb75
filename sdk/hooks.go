package sdk

// Hook names route one call from the host to the matching plugin method.
// They are part of the ABI: adding a hook is a minor change, renaming or
// removing one is a major change.
const (
	HookIntentMatch  = "intent.match"          // MatchRequest -> MatchResult
	HookIntentHandle = "intent.handle"         // IntentRequest -> IntentReply
	HookKBSearch     = "kb.search"             // KBSearchRequest -> KBSearchResult
	HookImport       = "import"                // ImportRequest -> ImportResult
	HookEligibility  = "insurance.eligibility" // EligibilityRequest -> EligibilityResponse
)

// Host operation names, used by guests through Host and checked by the host
// against the plugin's granted capabilities.
const (
	OpPatientsSearch = "patients.search" // capability patients:read
	OpKBSearch       = "kb.search"       // capability kb:read
)

// Capabilities a manifest may grant. The vocabulary is closed: the host
// refuses a manifest that names any other.
const (
	CapPatientsRead = "patients:read" // host op patients.search, minimum-necessary fields
	CapKBRead       = "kb:read"       // host op kb.search
	CapLog          = "log"           // guest log lines reach the core's log (redacted)
	CapClock        = "clock"         // real wall clock and monotonic clock instead of a fake one
	CapRandom       = "random"        // crypto-grade randomness instead of a deterministic source
	CapNetwork      = "network"       // process plugins only: outbound network to network.allowedHosts
)

// Capabilities lists every capability name the host understands.
var Capabilities = []string{CapPatientsRead, CapKBRead, CapLog, CapClock, CapRandom, CapNetwork}
