package processhost

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/plugin/fault"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/process"
)

var insurancePath string
var insuranceSum []byte

// helperEnv makes the test binary act as a misbehaving plugin.
const helperEnv = "PFINNI_PROCESSHOST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "protocol-v9": // speaks only a future protocol version
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  plugin.HandshakeConfig{ProtocolVersion: 9, MagicCookieKey: process.Handshake.MagicCookieKey, MagicCookieValue: process.Handshake.MagicCookieValue},
			VersionedPlugins: map[int]plugin.PluginSet{9: process.PluginSets(&sdk.Plugin{Name: "v9"})[1]},
			GRPCServer:       plugin.DefaultGRPCServer,
		})
		return
	case "panics": // a process plugin whose code panics and whose init may fail
		process.Serve(sdk.Plugin{Name: "helper", Insurance: panicky{},
			Init: func(_ context.Context, cfg json.RawMessage) error {
				if string(cfg) == `{"fail":true}` {
					return sdk.Errorf(sdk.CodeInvalidInput, "bad config")
				}
				return nil
			},
			Health: func(context.Context) error { return nil }})
		return
	}
	var err error
	insurancePath, err = plugintest.BuildProcess("plugins/stub-insurance")
	if err == nil {
		insuranceSum, err = manifest.FileSHA256(insurancePath)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	plugin.CleanupClients()
	os.Exit(code)
}

type panicky struct{}

func (panicky) CheckEligibility(context.Context, sdk.EligibilityRequest) (sdk.EligibilityResponse, error) {
	panic("helper panics")
}

func selfConfig(t *testing.T, mode string) Config {
	exe, err := os.Executable()
	require.NoError(t, err)
	sum, err := manifest.FileSHA256(exe)
	require.NoError(t, err)
	return Config{Name: "helper", Path: exe, SHA256: sum, Env: []string{helperEnv + "=" + mode}}
}

func eligibility(t *testing.T, p *Plugin, member string) (sdk.EligibilityResponse, error) {
	in, _ := json.Marshal(sdk.EligibilityRequest{Payer: "STUB", MemberID: member, FirstName: "A", LastName: "B", DateOfBirth: "1970-01-01"})
	out, err := p.Call(context.Background(), sdk.HookEligibility, in)
	var r sdk.EligibilityResponse
	if err == nil {
		require.NoError(t, json.Unmarshal(out, &r))
	}
	return r, err
}

func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

func start(t *testing.T, cfg Config) *Plugin {
	p, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestRoundTripAndCleanStop(t *testing.T) {
	p := start(t, Config{Name: "stub-insurance", Path: insurancePath, SHA256: insuranceSum})
	assert.Equal(t, "stub-insurance", p.Name())
	r, err := eligibility(t, p, "A123")
	require.NoError(t, err)
	assert.Equal(t, "active", r.Status)
	assert.Equal(t, "Stub Gold PPO", r.PlanName)

	r, err = eligibility(t, p, "I9")
	require.NoError(t, err)
	assert.Equal(t, "inactive", r.Status)

	_, err = eligibility(t, p, "")
	var se *sdk.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sdk.CodeInvalidInput, se.Code)

	_, err = p.Call(context.Background(), sdk.HookKBSearch, []byte(`{}`))
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sdk.CodeUnsupported, se.Code)
	require.NoError(t, p.Health(context.Background()))

	pid := p.Pid()
	require.True(t, alive(pid), "plugin process runs")
	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
	assert.False(t, alive(pid), "no orphan process after Close")
	_, err = eligibility(t, p, "A1")
	assert.Equal(t, fault.Unavailable, fault.KindOf(err))
}

func TestCrashRestartsWithBackoff(t *testing.T) {
	p := start(t, Config{Name: "stub-insurance", Path: insurancePath, SHA256: insuranceSum, HealthInterval: time.Hour, MinBackoff: 50 * time.Millisecond})
	pid := p.Pid()
	_, err := eligibility(t, p, "CRASH")
	assert.Equal(t, fault.Crash, fault.KindOf(err), "%v", err)

	require.Eventually(t, func() bool { return p.Restarts() >= 1 && p.Pid() != 0 }, 15*time.Second, 20*time.Millisecond)
	assert.NotEqual(t, pid, p.Pid())
	assert.False(t, alive(pid))
	r, err := eligibility(t, p, "A1")
	require.NoError(t, err)
	assert.Equal(t, "active", r.Status)

	// Killed from outside: the periodic health check notices.
	p2 := start(t, Config{Name: "stub-insurance", Path: insurancePath, SHA256: insuranceSum, HealthInterval: 100 * time.Millisecond, MinBackoff: 10 * time.Millisecond})
	old := p2.Pid()
	require.NoError(t, syscall.Kill(old, syscall.SIGKILL))
	require.Eventually(t, func() bool { return p2.Restarts() >= 1 && p2.Pid() != 0 && p2.Pid() != old }, 15*time.Second, 20*time.Millisecond)
	_, err = eligibility(t, p2, "A1")
	assert.NoError(t, err)
}

func TestHangTimesOut(t *testing.T) {
	p := start(t, Config{Name: "stub-insurance", Path: insurancePath, SHA256: insuranceSum, Timeout: time.Second})
	startAt := time.Now()
	_, err := eligibility(t, p, "HANG")
	assert.Equal(t, fault.Timeout, fault.KindOf(err), "%v", err)
	assert.Less(t, time.Since(startAt), 15*time.Second)
	_, err = eligibility(t, p, "A1")
	assert.NoError(t, err, "other calls keep working")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Call(ctx, sdk.HookEligibility, []byte(`{}`))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestStartRefusals(t *testing.T) {
	ctx := context.Background()
	_, err := Start(ctx, Config{Name: "stub-insurance", Path: insurancePath})
	assert.ErrorIs(t, err, ErrNoChecksum)

	bad := append([]byte{}, insuranceSum...)
	bad[0] ^= 0xff
	_, err = Start(ctx, Config{Name: "stub-insurance", Path: insurancePath, SHA256: bad})
	assert.ErrorContains(t, err, `start process plugin "stub-insurance"`)
	assert.ErrorContains(t, err, "checksum")

	_, err = Start(ctx, selfConfig(t, "protocol-v9"))
	assert.ErrorContains(t, err, "incompatible API version")

	cfg := selfConfig(t, "panics")
	cfg.InitConfig = json.RawMessage(`{"fail":true}`)
	_, err = Start(ctx, cfg)
	assert.ErrorContains(t, err, "bad config")
}

func TestPanicIsFault(t *testing.T) {
	p := start(t, selfConfig(t, "panics"))
	_, err := eligibility(t, p, "A1")
	assert.Equal(t, fault.Panic, fault.KindOf(err))
	assert.ErrorContains(t, err, "helper panics")
}
