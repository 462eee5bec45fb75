package app

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/cache"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// Two patient services on one database, wired as core/app wires them:
// the statistics are computed once per change for both, every read is
// still audited, and the assistant's vocabulary follows the same
// generation.
func TestFiguresSharedByTwoInstances(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	type instance struct {
		svc   *patient.Service
		aud   *patienttest.Auditor
		vocab sharedVocabulary
	}
	start := func(name string) instance {
		a := &App{}
		a.Cache = cache.New(db, cache.Options{Instance: name, Logger: quiet})
		gen := cache.NewGeneration(db, patientGeneration)
		aud := &patienttest.Auditor{}
		svc, err := patient.New(ctx, db, aud, patient.WithLogger(quiet),
			patient.WithObserver(bumpOnChange{gen: gen, log: quiet}), patient.WithSharedStats(sharedStats{app: a, gen: gen}))
		require.NoError(t, err)
		t.Cleanup(func() { _ = svc.Close() })
		return instance{svc: svc, aud: aud, vocab: sharedVocabulary{Service: svc, app: a, gen: gen}}
	}
	a, b := start("a"), start("b")
	staff := patienttest.As(ctx, actor.RoleStaff)

	stats := func(in instance) patient.Stats {
		st, err := in.svc.Stats(staff)
		require.NoError(t, err)
		return st
	}
	// both reads a then b; the figures are keyed by the minute and kept
	// 15 s at most, so a minute ending or a slow machine between the two
	// reads makes one more computation, and one more try.
	both := func() (patient.Stats, patient.Stats) {
		for try := 0; ; try++ {
			x, y := stats(a), stats(b)
			if x.AsOf.Equal(y.AsOf) || try == 2 {
				return x, y
			}
		}
	}
	first, other := both()
	assert.Equal(t, first.AsOf, other.AsOf, "b serves a's computation")
	_, audited := b.aud.Last("patient.stats")
	assert.True(t, audited, "a read from the cache is audited too")

	_, err := a.svc.Create(staff, patient.Input{MRN: "FIG-1", FirstName: "Odile", LastName: "Vance", DateOfBirth: "1975-04-09", Sex: "female"})
	require.NoError(t, err)
	after, other := both()
	assert.Equal(t, 1, after.Total, "the writer reads its write")
	assert.True(t, after.AsOf.After(first.AsOf), "computed again after the change")
	assert.Equal(t, after.AsOf, other.AsOf, "once for both")

	sys := actor.System(ctx)
	v, fresh, err := a.vocab.Vocabulary(sys, 0)
	require.NoError(t, err)
	assert.True(t, fresh)
	assert.NotZero(t, v.Generation, "the database-wide generation")
	_, fresh, err = b.vocab.Vocabulary(sys, v.Generation)
	require.NoError(t, err)
	assert.False(t, fresh, "the same generation on the other instance")

	// Without the cache both compute for themselves.
	alone := sharedStats{app: &App{}, gen: cache.NewGeneration(db, patientGeneration)}
	calls := 0
	_, err = alone.Stats(staff, "patients.stats:v1:test", func(context.Context) (patient.Stats, error) { calls++; return patient.Stats{}, nil })
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	v, fresh, err = sharedVocabulary{Service: a.svc, app: &App{}, gen: alone.gen}.Vocabulary(sys, 5)
	require.NoError(t, err)
	assert.True(t, fresh)
	assert.Zero(t, v.Generation, "a local vocabulary is never mistaken for a shared generation")
}
