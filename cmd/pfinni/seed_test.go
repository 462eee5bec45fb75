package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestRunSeed(t *testing.T) {
	db := storetest.New(t)
	aud := &patienttest.Auditor{}
	svc, err := patient.New(context.Background(), db, aud, patient.WithoutLive())
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runSeed(context.Background(), svc, args, &out)
		return out.String(), err
	}
	for _, bad := range [][]string{{}, {"--patients", "0"}, {"--patients", "x"}, {"--patients", "3", "extra"}, {"--bogus"}} {
		_, err := run(bad...)
		assert.Error(t, err, "%v", bad)
	}
	out, err := run("--help")
	require.NoError(t, err)
	assert.Contains(t, out, "usage")
	out, err = run("--patients", "25", "--seed", "9")
	require.NoError(t, err)
	assert.Contains(t, out, "seeded 25 demo patients (seed 9)")
	assert.Equal(t, 25, svc.Count())
	_, err = run("--patients", "5")
	assert.ErrorContains(t, err, "already present")
	ev, ok := aud.Last("patient.seed")
	require.True(t, ok)
	assert.Equal(t, "system", ev.Role)
}
