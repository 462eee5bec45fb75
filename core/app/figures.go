package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/pfinni/pfinni/core/cache"
	"github.com/pfinni/pfinni/core/patient"
)

// Figures every instance would otherwise compute (the dashboard's and
// the assistant's statistics, the assistant's vocabulary) go through the
// shared cache (core/cache), keyed by the database-wide change
// generation of the patient directory: each committed patient write
// raises it (bumpOnChange) before the write returns, so any instance's
// next read misses once and the figures are computed once per change
// across all instances.

// patientGeneration is the change generation of the patient directory.
const patientGeneration = "patients"

// sharedStats is patient.SharedStats on the app's cache.
type sharedStats struct {
	app *App // its Cache is built after the patient service
	gen *cache.Generation
}

var _ patient.SharedStats = sharedStats{}

// Stats returns the figures of key at the current generation, computing
// them here when no instance has; they are kept until the minute ends
// (they count days from now). Without the database (or the cache) they
// are computed here.
func (s sharedStats) Stats(ctx context.Context, key string, compute func(context.Context) (patient.Stats, error)) (patient.Stats, error) {
	if s.app.Cache == nil {
		return compute(ctx)
	}
	gen, err := s.gen.Current(ctx)
	if err != nil {
		return compute(ctx)
	}
	now := time.Now()
	ttl := max(now.Truncate(time.Minute).Add(time.Minute).Sub(now), time.Second)
	return cache.Fetch(ctx, s.app.Cache, key, gen, ttl, compute)
}

// bumpOnChange raises the generation after each committed patient
// write, before the write returns (it is the first observer).
type bumpOnChange struct {
	gen *cache.Generation
	log *slog.Logger
}

var _ patient.Observer = bumpOnChange{}

func (b bumpOnChange) PatientChanged(ctx context.Context, c patient.Committed) {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	if err := b.gen.Bump(bctx); err != nil {
		// Cached figures stay as they were until they expire (a minute
		// at most); the write itself stands.
		b.log.Warn("raise the patient change generation", "patient", c.PatientID, "err", err)
	}
	cancel()
}
