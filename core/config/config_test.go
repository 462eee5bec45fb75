package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func chdir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

func TestDefaults(t *testing.T) {
	chdir(t)
	c, err := Load(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", c.HTTPAddr)
	assert.Equal(t, "./data", c.DataDir)
	assert.True(t, c.Embedded())
	assert.Equal(t, 15*time.Minute, c.SessionIdleTimeout)
	assert.Equal(t, 10<<20, c.ImportMaxBytes)
}

func TestPrecedenceFileEnvFlags(t *testing.T) {
	dir := chdir(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pfinni.yaml"),
		[]byte("http_addr: 127.0.0.1:9000\nbase_path: /file\ndemo_patients: 7\nlog_level: debug\n"), 0o600))
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"--http-addr", "127.0.0.1:9999"}))
	c, err := Load(fs, []string{"PFINNI_HTTP_ADDR=127.0.0.1:9100", "PFINNI_BASE_PATH=/pfinni", "HOME=/root"})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9999", c.HTTPAddr, "flag beats env")
	assert.Equal(t, "/pfinni", c.BasePath, "env beats file")
	assert.Equal(t, 7, c.DemoPatients, "file beats default")
	assert.Equal(t, "debug", c.LogLevel)
}

func TestErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		env     []string
		wantErr string
	}{
		{"unknown file key", "htp_addr: x\n", nil, `"htp_addr"`},
		{"unknown env var", "", []string{"PFINNI_HTTP_ADRR=x"}, "PFINNI_HTTP_ADRR"},
		{"bad addr", "", []string{"PFINNI_HTTP_ADDR=nope"}, "http_addr"},
		{"bad base path", "", []string{"PFINNI_BASE_PATH=pfinni/"}, "base_path"},
		{"bad db url", "", []string{"PFINNI_DB_URL=http://x"}, "db_url"},
		{"bad number", "", []string{"PFINNI_DEMO_PATIENTS=many"}, "demo_patients"},
		{"bad duration", "", []string{"PFINNI_SESSION_IDLE_TIMEOUT=soon"}, "session_idle_timeout"},
		{"short idle", "", []string{"PFINNI_SESSION_IDLE_TIMEOUT=5s"}, "session_idle_timeout"},
		{"bad level", "", []string{"PFINNI_LOG_LEVEL=loud"}, "log_level"},
		{"bad cookies", "", []string{"PFINNI_SECURE_COOKIES=maybe"}, "secure_cookies"},
		{"bad yaml", "http_addr: [\n", nil, "pfinni.yaml"},
		{"bad public url", "", []string{"PFINNI_PUBLIC_URL=example.org"}, "public_url"},
		{"public url with query", "", []string{"PFINNI_PUBLIC_URL=https://example.org/?a=1"}, "public_url"},
		{"bad proxy", "", []string{"PFINNI_TRUSTED_PROXIES=10.0.0.0/8, nope"}, "trusted_proxies"},
		{"bad proxy cidr", "", []string{"PFINNI_TRUSTED_PROXIES=10.0.0.0/99"}, "trusted_proxies"},
		{"zero read timeout", "", []string{"PFINNI_READ_TIMEOUT=0s"}, "read_timeout"},
		{"short idle timeout", "", []string{"PFINNI_IDLE_TIMEOUT=10ms"}, "idle_timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := chdir(t)
			if tc.file != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "pfinni.yaml"), []byte(tc.file), 0o600))
			}
			_, err := Load(nil, tc.env)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestExplicitMissingFileFails(t *testing.T) {
	chdir(t)
	_, err := Load(nil, []string{"PFINNI_CONFIG=/nonexistent/pfinni.yaml"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/pfinni.yaml")
}

func TestTestHarnessVarsIgnored(t *testing.T) {
	chdir(t)
	_, err := Load(nil, []string{"PFINNI_TEST_DB_URL=ws://x"})
	require.NoError(t, err)
}

func TestEdgeSettings(t *testing.T) {
	chdir(t)
	c, err := Load(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, c.ReadTimeout)
	assert.Equal(t, 60*time.Second, c.WriteTimeout)
	assert.Equal(t, 120*time.Second, c.IdleTimeout)
	none, err := c.TrustedProxyPrefixes()
	require.NoError(t, err)
	assert.Empty(t, none, "no proxy is trusted by default")

	c, err = Load(nil, []string{"PFINNI_TRUSTED_PROXIES=127.0.0.1, 10.1.2.0/24 ,::1", "PFINNI_PUBLIC_URL=https://example.org/pfinni", "PFINNI_READ_TIMEOUT=2s"})
	require.NoError(t, err)
	ps, err := c.TrustedProxyPrefixes()
	require.NoError(t, err)
	require.Len(t, ps, 3)
	assert.Equal(t, "127.0.0.1/32", ps[0].String())
	assert.Equal(t, "10.1.2.0/24", ps[1].String())
	assert.Equal(t, "::1/128", ps[2].String())
	assert.Equal(t, "https://example.org/pfinni", c.PublicURL)
	assert.Equal(t, 2*time.Second, c.ReadTimeout)
}
