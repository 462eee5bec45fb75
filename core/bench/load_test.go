package bench

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClosedAndOpenCountRequestsAndErrors(t *testing.T) {
	ctx := context.Background()
	op := func(ctx context.Context, w int, i int64) error {
		time.Sleep(time.Millisecond)
		if i%10 == 0 {
			return errors.New("every tenth fails")
		}
		return nil
	}
	c := Closed(ctx, "closed", 4, 200*time.Millisecond, op)
	assert.Positive(t, c.Requests)
	assert.Positive(t, c.Errors)
	assert.Less(t, c.Errors, c.Requests)
	assert.Equal(t, "every tenth fails", c.FirstError)
	assert.GreaterOrEqual(t, c.P99ms, c.P50ms)
	assert.GreaterOrEqual(t, c.P50ms, 0.9)
	assert.Equal(t, "closed:4", c.Mode)

	o := Open(ctx, "open", 100, 300*time.Millisecond, op)
	// At most rate × duration (+1) are issued; fewer on a starved machine.
	assert.Positive(t, o.Requests)
	assert.LessOrEqual(t, o.Requests, int64(31))
	assert.Equal(t, "open:100/s", o.Mode)
}

func TestSamplerAndReport(t *testing.T) {
	s := Sample(map[string]int{"self": os.Getpid(), "none": 0})
	x := 0
	for i := range 5_000_000 {
		x += i
	}
	time.Sleep(150 * time.Millisecond)
	stats := s.Stop()
	require.Len(t, stats, 1)
	assert.Positive(t, stats[0].PeakRSSMB)
	assert.GreaterOrEqual(t, stats[0].CPUSeconds, 0.0)

	r := &Report{Patients: 10, Workers: 2, Duration: "1s", Results: []Result{{Name: "get", Mode: "closed:2", Requests: 5, FirstError: "boom"}}, Processes: stats}
	var buf bytes.Buffer
	r.WriteTable(&buf)
	assert.Contains(t, buf.String(), "get")
	assert.Contains(t, buf.String(), "first error on get: boom")
	path := filepath.Join(t.TempDir(), "r.json")
	require.NoError(t, r.WriteJSON(path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"requests": 5`)
	assert.Zero(t, rssMB(-1))
	assert.Zero(t, cpuSeconds(-1))
	_ = x
}

func TestReportPrintsThePeerComparison(t *testing.T) {
	r := &Report{Patients: 10, Workers: 2, Duration: "1s", Peer: []Comparison{{
		Path:       "get by id",
		Peer:       Result{Name: "pocketbase: get by id", P99ms: 200, Throughput: 100, Errors: 1, FirstError: "GET x: 404"},
		Pfinni:     Result{Name: "pfinni: get by id", P99ms: 50, Throughput: 400},
		Throughput: 4, P99: 4,
	}}}
	var buf bytes.Buffer
	r.WriteTable(&buf)
	out := buf.String()
	assert.Contains(t, out, "side by side, same run")
	assert.Regexp(t, `get by id\s+200\.0\s+100\s+50\.0\s+400\s+4\.0×\s+4\.0×\s+1/0`, out)
	assert.Contains(t, out, "first error on pocketbase: get by id: GET x: 404")

	assert.Len(t, strings.Fields(LoadAverage()), 3, "the load beside a run is recorded")
	assert.Contains(t, Machine(), "CPUs")
}
