package jobs

import (
	"errors"
	"math/rand/v2"
	"time"
)

// Backoff gives the delay before the retry that follows failed attempt
// number attempt (1 for the first).
type Backoff func(attempt int) time.Duration

// DefaultBackoff doubles from 10s (10s, 20s, 40s, …) up to 6h, with ±20%
// jitter so that jobs that failed together do not retry together.
var DefaultBackoff = ExponentialBackoff(10*time.Second, 6*time.Hour)

// ExponentialBackoff returns base·2^(attempt-1), capped at limit, with
// ±20% jitter.
func ExponentialBackoff(base, limit time.Duration) Backoff {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < limit; i++ {
			d *= 2
		}
		d = min(d, limit)
		jitter := time.Duration(float64(d) * 0.2 * (2*rand.Float64() - 1))
		return max(d+jitter, 0)
	}
}

// permanent marks an error after which retrying is pointless.
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// Permanent wraps err so that the job is dead at once instead of retried
// (bad arguments, a record that no longer exists).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err: err}
}

// IsPermanent reports whether err was wrapped with Permanent.
func IsPermanent(err error) bool {
	var p *permanent
	return errors.As(err, &p)
}
