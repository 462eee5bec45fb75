package hostcall

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
)

// Guest stdout/stderr reaches the log only for plugins granted "log"
// (security review M6): output is free text a plugin controls.
func TestOutputNeedsLogCapability(t *testing.T) {
	out := &sink{}
	d := New(Services{Logger: newTextLogger(out)})
	d.Output(context.Background(), Caller{Plugin: "quiet"}, "stderr", "patient Ada Lovelace")
	assert.Empty(t, out.lines, "not granted log: nothing logged")
	d.Output(context.Background(), Caller{Plugin: "loud", Capabilities: []string{sdk.CapLog}}, "stdout", "ready")
	require.Len(t, out.lines, 1)
	assert.Contains(t, out.lines[0], "plugin=loud")
	assert.Contains(t, out.lines[0], "source=stdout")
}

// A plugin cannot flood the log: past a burst, lines are dropped and
// counted, per plugin, and the count is logged when lines flow again.
func TestLogRateLimitPerPlugin(t *testing.T) {
	out := &sink{}
	d := New(Services{Logger: newTextLogger(out)})
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	d.limits.now = func() time.Time { return now }
	noisy := Caller{Plugin: "noisy", Capabilities: []string{sdk.CapLog}}
	other := Caller{Plugin: "other", Capabilities: []string{sdk.CapLog}}
	for i := 0; i < 1000; i++ {
		d.Log(context.Background(), noisy, sdk.LogInfo, fmt.Sprintf("line %d", i))
	}
	assert.Len(t, out.lines, LogBurst)
	d.Output(context.Background(), other, "stderr", "other plugin still heard")
	assert.Contains(t, out.lines[len(out.lines)-1], "other plugin still heard")

	now = now.Add(time.Second) // refills LogRate tokens
	out.lines = nil
	for i := 0; i < 100; i++ {
		d.Output(context.Background(), noisy, "stderr", "again")
	}
	require.Len(t, out.lines, LogRate+1)
	assert.Contains(t, out.lines[0], "plugin log lines dropped by the rate limit")
	assert.Contains(t, out.lines[0], fmt.Sprintf("dropped=%d", 1000-LogBurst))
	assert.Equal(t, LogRate, strings.Count(strings.Join(out.lines, ""), "msg=again"))
}
