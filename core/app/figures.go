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

// statsTTL bounds how long shared figures are kept. An instance whose
// directory has not yet received another instance's write through the
// live query (usually milliseconds) may compute the figures of the new
// generation without it; they are replaced after this time at most.
const statsTTL = 15 * time.Second

// sharedStats is patient.SharedStats on the app's cache.
type sharedStats struct {
	app *App // its Cache is built after the patient service
	gen *cache.Generation
}

var _ patient.SharedStats = sharedStats{}

// Stats returns the figures of key at the current generation, computing
// them here when no instance has; they are kept until the minute ends
// (they count days from now), and at most statsTTL. Without the
// database (or the cache) they are computed here.
func (s sharedStats) Stats(ctx context.Context, key string, compute func(context.Context) (patient.Stats, error)) (patient.Stats, error) {
	if s.app.Cache == nil {
		return compute(ctx)
	}
	gen, err := s.gen.Current(ctx)
	if err != nil {
		return compute(ctx)
	}
	now := time.Now()
	ttl := min(max(now.Truncate(time.Minute).Add(time.Minute).Sub(now), time.Second), statsTTL)
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

// vocabularyKey is the assistant's vocabulary in the shared cache.
const vocabularyKey = "chat.vocabulary:v1"

// vocabularyTTL bounds how long a vocabulary is kept: provider changes
// do not raise the patient generation, so a new provider's name reaches
// the assistant within this time.
const vocabularyTTL = time.Minute

// sharedVocabulary is the patient service as the assistant's Directory
// (core/chat), with the vocabulary computed once per change across all
// instances. Its Generation is the database-wide one.
type sharedVocabulary struct {
	*patient.Service
	app *App
	gen *cache.Generation
}

// Vocabulary returns the vocabulary at the current generation; fresh is
// false when known is that generation already. Without the database it
// is built here, as generation 0 (never mistaken for a shared one).
func (v sharedVocabulary) Vocabulary(ctx context.Context, known uint64) (patient.Vocabulary, bool, error) {
	gen, err := v.gen.Current(ctx)
	if err != nil || v.app.Cache == nil {
		out, _, err := v.Service.Vocabulary(ctx, 0)
		out.Generation = 0
		return out, true, err
	}
	if known != 0 && uint64(gen) == known {
		return patient.Vocabulary{Generation: known}, false, nil
	}
	out, err := cache.Fetch(ctx, v.app.Cache, vocabularyKey, gen, vocabularyTTL, func(ctx context.Context) (patient.Vocabulary, error) {
		out, _, err := v.Service.Vocabulary(ctx, 0)
		return out, err
	})
	out.Generation = uint64(gen)
	return out, true, err
}
