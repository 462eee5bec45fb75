package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEmailSettings: e-mail is off by default; the key, the API base URL
// (the stub's, in development) and the sender come from the environment
// or flags; a base URL that is not http(s) or carries credentials stops
// the start without echoing the value.
func TestEmailSettings(t *testing.T) {
	chdir(t)
	c, err := Load(nil, nil)
	require.NoError(t, err)
	assert.Empty(t, c.ResendAPIKey, "e-mail is off by default")
	assert.Empty(t, c.ResendBaseURL)
	assert.Equal(t, "pfinni <pfinni@localhost>", c.EmailFrom)

	c, err = Load(nil, []string{"PFINNI_RESEND_API_KEY=re_123", "PFINNI_RESEND_BASE_URL=http://127.0.0.1:8091/",
		"PFINNI_EMAIL_FROM=Practice <pfinni@practice.example>"})
	require.NoError(t, err)
	assert.Equal(t, "re_123", c.ResendAPIKey)
	assert.Equal(t, "http://127.0.0.1:8091/", c.ResendBaseURL)
	assert.Equal(t, "Practice <pfinni@practice.example>", c.EmailFrom)

	for _, bad := range []string{"ftp://mail.example/", "https://user:pw@api.resend.com/", "api.resend.com"} {
		_, err := Load(nil, []string{"PFINNI_RESEND_BASE_URL=" + bad})
		require.Error(t, err, bad)
		assert.NotContains(t, err.Error(), "pw@", "the value is not echoed")
	}
}
