// Package email sends pfinni's e-mails: invitations, password resets and
// the opt-in daily digest. Sending runs on the durable job queue (kind
// email.send): each message has an idempotency key (the job's unique
// key, sent as Resend's Idempotency-Key header), failed sends are retried
// with the queue's backoff (a 429 waits at least its Retry-After), and an
// address that bounced (table email_suppression) is never sent to again.
//
// Messages carry counts and links only: never patient data. Job
// arguments carry record ids only (a user id, a password token id); the
// address and the link are looked up when the job runs.
package email

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pfinni/pfinni/core/fault"
)

// Message is one e-mail to one address.
type Message struct {
	To      string
	Subject string
	Text    string // plain-text part, always present
	HTML    string
}

// Sender delivers a message. key is the idempotency key: a second send
// with the same key within the provider's window is not delivered again.
// Errors are *RateLimitedError (retry after), ErrRejected (permanent) or
// anything else (retried).
type Sender interface {
	Send(ctx context.Context, m Message, key string) (providerID string, err error)
}

// ErrRejected is a send the provider refused for good (a 4xx other than
// 429): retrying cannot help.
var ErrRejected = errors.New("the e-mail provider refused the message")

// ErrOff is returned when e-mail is not configured (no API key).
var ErrOff = fault.New(fault.ErrUnavailable, "e-mail is off (no resend_api_key)")

// RateLimitedError is a 429 from the provider.
type RateLimitedError struct {
	RetryAfter time.Duration // zero when the provider did not say
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("the e-mail provider is rate limiting (retry after %s)", e.RetryAfter)
}

// StatusError is a provider answer that is neither success nor a 429.
type StatusError struct{ Status int }

func (e *StatusError) Error() string {
	return fmt.Sprintf("the e-mail provider answered HTTP %d", e.Status)
}

// Unwrap makes 4xx answers match ErrRejected.
func (e *StatusError) Unwrap() error {
	if e.Status >= 400 && e.Status < 500 {
		return ErrRejected
	}
	return nil
}
