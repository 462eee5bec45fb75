package patient

import (
	"fmt"

	"github.com/pfinni/pfinni/core/fault"
)

// Sentinel errors callers decide on. Each wraps a fault kind, so the API
// maps it to its status code; validation problems additionally carry
// fault.Fields naming the field.
var (
	// ErrNotFound: no patient (or provider) with that id.
	ErrNotFound = fault.New(fault.ErrNotFound, "patient not found")
	// ErrProviderNotFound: no provider with that id.
	ErrProviderNotFound = fault.New(fault.ErrNotFound, "provider not found")
	// ErrForbiddenTransition: the workflow does not allow this status change (422).
	ErrForbiddenTransition = fault.New(fault.ErrInvalid, "forbidden status transition")
	// ErrStaleVersion: the record changed since the caller read it (409).
	ErrStaleVersion = fault.New(fault.ErrConflict, "the patient was changed by someone else")
	// ErrDuplicateMRN: another patient has this MRN (409).
	ErrDuplicateMRN = fault.New(fault.ErrConflict, "another patient already has this MRN")
	// ErrNotAllowed: the caller's role may not touch patient data.
	ErrNotAllowed = fault.New(fault.ErrForbidden, "your role may not access patient data")
	// ErrNotSignedIn: nobody is signed in.
	ErrNotSignedIn = fault.New(fault.ErrUnauthorized, "sign in first")
)

// fieldErr wraps a sentinel together with a one-field problem, so the
// error is both (errors.Is the sentinel, errors.As fault.Fields).
func fieldErr(op string, sentinel error, field, msg string) error {
	return fmt.Errorf("%s: %w: %w", op, sentinel, fault.Fields{{Field: field, Message: msg}})
}
