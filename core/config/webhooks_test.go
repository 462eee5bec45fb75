package config

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWebhookSettings(t *testing.T) {
	chdir(t)
	c, err := Load(nil, nil)
	require.NoError(t, err)
	assert.False(t, c.WebhookAllowPrivate, "private destinations are refused by default")
	d, err := c.WebhookRetryDelays()
	require.NoError(t, err)
	assert.Nil(t, d, "empty: the Standard Webhooks schedule")
	assert.Equal(t, filepath.Join(c.DataDir, "webhook.key"), c.WebhookKeyPath())

	c, err = Load(nil, []string{"PFINNI_WEBHOOK_ALLOW_PRIVATE=true", "PFINNI_WEBHOOK_RETRY_SCHEDULE=1s, 2s,4s",
		"PFINNI_WEBHOOK_KEY_FILE=/secrets/webhook.key"})
	require.NoError(t, err)
	assert.True(t, c.WebhookAllowPrivate)
	d, err = c.WebhookRetryDelays()
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, d)
	assert.Equal(t, "/secrets/webhook.key", c.WebhookKeyPath())

	for _, bad := range []string{"soon", "1s,,2s", "-1s", "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s"} {
		_, err := Load(nil, []string{"PFINNI_WEBHOOK_RETRY_SCHEDULE=" + bad})
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "webhook_retry_schedule")
	}
}
