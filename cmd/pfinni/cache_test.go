package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/bench"
)

// Dashboard figures are computed once per change across two real
// `pfinni serve` processes on one database: every computation stamps
// the figures with its own time (as_of, in nanoseconds), so equal as_of
// on both processes is one computation, and a write on either makes the
// next read on any of them compute once more (the database-wide change
// generation, core/cache).
func TestFiguresComputedOncePerChangeAcrossTwoProcesses(t *testing.T) {
	bin, dbURL, dbName := processDatabase(t)
	_, a := startServe(t, bin, dbURL, dbName)
	_, b := startServe(t, bin, dbURL, dbName)
	ctx := context.Background()
	ca, cb := bench.NewClient(a, 1), bench.NewClient(b, 1)
	require.NoError(t, ca.Login(ctx, "admin@example.org", serveAdminPassword))
	require.NoError(t, cb.Login(ctx, "admin@example.org", serveAdminPassword))

	type stats struct {
		Total int       `json:"total"`
		AsOf  time.Time `json:"as_of"`
	}
	read := func(c *bench.Client) stats {
		var s stats
		require.NoError(t, c.Do(ctx, "GET", "/api/v1/patients/stats", nil, &s))
		return s
	}
	// reads returns the figures both processes serve, read three times
	// each, once they agree: the figures are keyed by the minute too, so
	// a minute ending between two reads makes one more computation (and
	// one more try).
	reads := func(first, second *bench.Client, total int) time.Time {
		for try := 0; ; try++ {
			var got []stats
			for range 3 {
				got = append(got, read(first), read(second))
			}
			same := true
			for _, s := range got {
				same = same && s.AsOf.Equal(got[0].AsOf) && s.Total == total
			}
			if same {
				return got[0].AsOf
			}
			require.Less(t, try, 3, "both processes serve one computation of %d patients: %v", total, got)
		}
	}

	seen := []time.Time{reads(ca, cb, 0)}
	for i := range 4 {
		c, other := ca, cb
		if i%2 == 1 {
			c, other = cb, ca
		}
		require.NoError(t, c.Do(ctx, "POST", "/api/v1/patients", map[string]any{
			"mrn": fmt.Sprintf("CACHE-%d", i), "first_name": []string{"Ada", "Bruno", "Celia", "Dmitri"}[i],
			"last_name": []string{"Quill", "Ruskin", "Stavros", "Tennant"}[i], "date_of_birth": fmt.Sprintf("198%d-02-03", i), "sex": "female"}, nil))
		// The writer reads first: the other's directory may not hold the
		// write yet (live queries), see docs/scaling.md "Shared cache".
		at := reads(c, other, i+1)
		assert.True(t, at.After(seen[len(seen)-1]), "the change made a new computation")
		seen = append(seen, at)
	}
	t.Logf("5 states of the directory, 5 computations shared by both processes: %v", seen)
}
