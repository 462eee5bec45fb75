package jobs

import (
	"errors"
	"time"
)

// retryAfter marks an error after which the next attempt must wait at
// least a given time (a provider's Retry-After).
type retryAfter struct {
	err   error
	after time.Duration
}

func (r *retryAfter) Error() string { return r.err.Error() }
func (r *retryAfter) Unwrap() error { return r.err }

// RetryAfter wraps err so that the next attempt waits at least d, or the
// queue's backoff if that is longer (a 429 with Retry-After).
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfter{err: err, after: d}
}

// retryDelay is the delay before the retry that follows failed attempt
// number attempt that returned err: the backoff, or longer when err asks.
func retryDelay(b Backoff, attempt int, err error) time.Duration {
	d := b(attempt)
	var r *retryAfter
	if errors.As(err, &r) && r.after > d {
		d = r.after
	}
	return d
}
