package auth

import (
	"fmt"

	"github.com/pfinni/pfinni/core/fault"
)

// Why a sign-in or a session was refused. Callers decide with errors.Is
// (errors.Is(err, auth.ErrSessionIdle)), never by the message; each is
// also its fault kind, so the API maps it to a status in one place. The
// errors returned may carry a more precise message for people (how long
// a lock lasts, the idle timeout) but still match these.
var (
	// ErrNoSession: no such session (never existed, signed out, revoked).
	ErrNoSession = fault.New(fault.ErrUnauthorized, "your session has ended (signed out or unknown); sign in again")
	// ErrSessionIdle: the session was unused longer than the idle timeout.
	ErrSessionIdle = fault.New(fault.ErrUnauthorized, "your session expired after a period of inactivity; sign in again")
	// ErrSessionExpired: the session reached its absolute lifetime.
	ErrSessionExpired = fault.New(fault.ErrUnauthorized, "your session reached its maximum length; sign in again")
	// ErrAccountDisabled: the user is disabled (403 at sign-in, 401 for
	// a session that was open when it happened).
	ErrAccountDisabled = fault.New(fault.ErrForbidden, "this account is disabled; ask an admin to enable it")
	// ErrBadCredentials: wrong password or unknown email (the same
	// answer for both).
	ErrBadCredentials = fault.New(fault.ErrUnauthorized, "the email or password is not right")
	// ErrLocked: too many failed sign-ins for this email.
	ErrLocked = fault.New(fault.ErrLocked, "this account is locked after too many failed sign-ins; try again later")
	// ErrThrottled: too many sign-in attempts from one client address.
	ErrThrottled = fault.New(fault.ErrTooMany, "too many sign-in attempts from your address; wait a minute and try again")
)

// reasonError is one of the errors above with its own message and,
// where the context needs it, another fault kind.
type reasonError struct {
	reason error // one of the Err* above
	kind   error // a fault kind
	msg    string
}

func (e *reasonError) Error() string        { return e.msg }
func (e *reasonError) Unwrap() error        { return e.kind }
func (e *reasonError) Is(target error) bool { return target == e.reason }

// because returns reason with a message for people, of the fault kind
// kind (a fault.Err*).
func because(reason, kind error, format string, args ...any) error {
	return &reasonError{reason: reason, kind: kind, msg: fmt.Sprintf(format, args...)}
}
