package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/email"
)

// POST /api/v1/email/events takes Resend's signed bounce and complaint
// events without a session: a hard bounce lands on the suppression list
// the admin sees; a bad signature is a 400 problem and changes nothing;
// a body over the limit is a 413; with no secret set the route is 404.
func TestEmailEventsAPI(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	e := newEmailEnv(t, true, func(o *email.Options) { o.ProviderWebhookSecret = secret })
	app := e.srv.App()
	signed := func(t *testing.T, key, body string) []string {
		wh, err := standardwebhooks.NewWebhook(key)
		require.NoError(t, err)
		now := time.Now()
		sig, err := wh.Sign("msg_resend1", now, []byte(body))
		require.NoError(t, err)
		return []string{"svix-id", "msg_resend1", "svix-timestamp", strconv.FormatInt(now.Unix(), 10), "svix-signature", sig}
	}
	bounce := `{"type":"email.bounced","created_at":"2026-12-03T10:00:00Z","data":{"email_id":"e1","to":["gone@practice.example"],"bounce":{"type":"Permanent"}}}`

	for _, tc := range []struct {
		name   string
		body   string
		header []string
		status int
	}{
		{"another secret", bounce, signed(t, "whsec_"+strings.Repeat("B", 43)+"=", bounce), 400},
		{"unsigned", bounce, nil, 400},
		{"too large", `{"type":"x","pad":"` + strings.Repeat("x", email.MaxEventBody) + `"}`, nil, 413},
		{"a hard bounce", bounce, signed(t, secret, bounce), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, app, "POST", "/api/v1/email/events", tc.body, tc.header...)
			assert.Equal(t, tc.status, res.StatusCode, string(body))
			if tc.status >= 400 {
				assert.Contains(t, res.Header.Get("Content-Type"), "problem+json")
			}
		})
	}

	res, body := do(t, app, "GET", "/api/v1/email/suppressions", "", e.adminToken(t)...)
	require.Equal(t, 200, res.StatusCode, string(body))
	var list struct {
		Items []email.Suppression `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Items, 1, "only the verified event changed the list")
	assert.Equal(t, "gone@practice.example", list.Items[0].Address)
	assert.Equal(t, "bounced", list.Items[0].Reason)

	off := newEmailEnv(t, true)
	res, body = do(t, off.srv.App(), "POST", "/api/v1/email/events", bounce, signed(t, secret, bounce)...)
	assert.Equal(t, 404, res.StatusCode, "no resend_webhook_secret: not set up: %s", body)
}
