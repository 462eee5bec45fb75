package patient

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
)

// keptStats is a SharedStats that remembers values by key, as a shared
// cache would.
type keptStats struct {
	kept map[string]Stats
	keys []string
	err  error
}

func (k *keptStats) Stats(ctx context.Context, key string, compute func(context.Context) (Stats, error)) (Stats, error) {
	k.keys = append(k.keys, key)
	if k.err != nil {
		return Stats{}, k.err
	}
	if st, ok := k.kept[key]; ok {
		return st, nil
	}
	st, err := compute(ctx)
	if err == nil {
		k.kept[key] = st
	}
	return st, err
}

// Stats go through the shared store after the caller is authorized, by
// a key that names the figures and the minute (never a patient), and
// are audited whether they were computed or kept; a failure of the
// store is the read's failure.
func TestStatsThroughSharedStore(t *testing.T) {
	shared := &keptStats{kept: map[string]Stats{}}
	f := newFixture(t, WithSharedStats(shared))
	f.create(t, input("MRN-S1", "Oriana", "Pell"))

	st, err := f.svc.Stats(f.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Total)
	f.create(t, input("MRN-S2", "Quentin", "Marlowe"))
	again, err := f.svc.Stats(f.ctx)
	require.NoError(t, err)
	assert.Equal(t, st, again, "kept by the store (its generation is not this test's)")
	require.Len(t, shared.keys, 2)
	assert.Equal(t, shared.keys[0], shared.keys[1])
	assert.Regexp(t, `^patients\.stats:v1:\d+:[0-9a-f]{16}$`, shared.keys[0])
	for _, w := range []string{"Oriana", "Pell", "MRN-S1"} {
		assert.NotContains(t, shared.keys[0], w)
	}
	other, err := f.svc.Stats(f.ctx, StatsOptions{Weeks: 4})
	require.NoError(t, err)
	assert.Equal(t, 2, other.Total, "other options, another key")
	ev, ok := f.aud.Last("patient.stats")
	require.True(t, ok)
	assert.Equal(t, audit.OutcomeSuccess, ev.Outcome)

	shared.err = fault.ErrUnavailable
	_, err = f.svc.Stats(f.ctx)
	assert.True(t, errors.Is(err, fault.ErrUnavailable))
}
