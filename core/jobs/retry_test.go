package jobs_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/core/jobs"
)

// The backoff doubles per attempt within ±20% jitter and stops at its cap.
func TestExponentialBackoff(t *testing.T) {
	b := jobs.ExponentialBackoff(10*time.Second, time.Minute)
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {4, time.Minute}, {30, time.Minute}} {
		for i := 0; i < 50; i++ {
			d := b(tc.attempt)
			assert.GreaterOrEqual(t, d, tc.want*8/10, "attempt %d", tc.attempt)
			assert.LessOrEqual(t, d, tc.want*12/10, "attempt %d", tc.attempt)
		}
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("record gone")
	p := fmt.Errorf("sync: %w", jobs.Permanent(base))
	assert.True(t, jobs.IsPermanent(p))
	assert.ErrorIs(t, p, base)
	assert.False(t, jobs.IsPermanent(base))
	assert.NoError(t, jobs.Permanent(nil))
}

func TestBindRefusesOtherShapes(t *testing.T) {
	j := jobs.Job{ID: "j1", Kind: "test.k", Args: []byte(`{"n":"x"}`)}
	var v struct{ N int }
	assert.Error(t, j.Bind(&v))
}
