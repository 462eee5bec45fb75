// Package fault classifies plugin failures that are the plugin's fault —
// traps, panics, timeouts, memory blow-ups, malformed output, capability
// violations, crashes — as opposed to errors a plugin returns on purpose
// (an *sdk.Error such as invalid_input). The registry's circuit breaker
// counts faults; the host runtimes (wasmhost, processhost) produce them.
//
// Imported by core/plugin and its runtimes only.
package fault

import (
	"errors"
	"fmt"
)

// Kind names what went wrong.
type Kind string

// Fault kinds.
const (
	Trap             Kind = "trap"              // WASM trap or guest exit
	Panic            Kind = "panic"             // guest panicked; the SDK recovered
	Timeout          Kind = "timeout"           // call exceeded its time limit
	Memory           Kind = "memory"            // guest ran past its memory limit
	Malformed        Kind = "malformed"         // output is not a valid envelope / result
	CapabilityDenied Kind = "capability_denied" // guest called a host op it was not granted
	Crash            Kind = "crash"             // process plugin died or its connection broke
	Unavailable      Kind = "unavailable"       // plugin is out of service (disabled, tripped, restarting)
)

// Error is a plugin fault. It names the plugin and the hook.
type Error struct {
	Plugin string
	Hook   string
	Kind   Kind
	Err    error
}

func (e *Error) Error() string {
	hook := ""
	if e.Hook != "" {
		hook = " " + e.Hook
	}
	if e.Err == nil {
		return fmt.Sprintf("plugin %q%s: %s", e.Plugin, hook, e.Kind)
	}
	return fmt.Sprintf("plugin %q%s: %s: %v", e.Plugin, hook, e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns a fault.
func New(plugin, hook string, kind Kind, err error) *Error {
	return &Error{Plugin: plugin, Hook: hook, Kind: kind, Err: err}
}

// KindOf returns the kind of the fault in err's chain, or "".
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Counts reports whether err should count against the plugin's circuit
// breaker: every fault except Unavailable (which the breaker itself or
// the admin caused).
func Counts(err error) bool {
	k := KindOf(err)
	return k != "" && k != Unavailable
}
