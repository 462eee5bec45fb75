package patient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// SharedStats keeps computed Stats for every core instance, so a figure
// is computed once per change across all of them (core/app passes one
// built on core/cache, keyed by the database-wide change generation).
// key names the figures and never a patient; compute computes them on
// this instance.
type SharedStats interface {
	Stats(ctx context.Context, key string, compute func(context.Context) (Stats, error)) (Stats, error)
}

// WithSharedStats makes Stats go through shared (after the caller is
// authorized; the read is audited either way).
func WithSharedStats(shared SharedStats) Option { return func(o *options) { o.shared = shared } }

// sharedStats returns the figures through the shared store when there
// is one. The key holds the minute (the figures count days and weeks
// from now), the options and a hash of the scope's provider id.
func (s *Service) sharedStats(ctx context.Context, now time.Time, o StatsOptions, sc scope) (Stats, error) {
	compute := func(context.Context) (Stats, error) { return s.cachedStats(now, o, sc), nil }
	if s.opt.shared == nil {
		return compute(ctx)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%+v|%+v", o, sc))
	key := fmt.Sprintf("patients.stats:v1:%d:%s", now.Unix()/60, hex.EncodeToString(sum[:8]))
	return s.opt.shared.Stats(ctx, key, compute)
}
