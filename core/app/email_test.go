package app

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/email/emailstub"
)

// With resend_api_key set, a serving app sends an invitation through the
// configured API (the stub) from email_from, with links under
// public_url; without it, e-mail is off.
func TestServingAppSendsEmailThroughTheConfiguredAPI(t *testing.T) {
	ctx := context.Background()
	stub := emailstub.New()
	hs := httptest.NewServer(stub)
	defer hs.Close()
	cfg := testConfig(t, "PFINNI_RESEND_API_KEY=re_app", "PFINNI_RESEND_BASE_URL="+hs.URL,
		"PFINNI_EMAIL_FROM=Practice <pfinni@practice.example>", "PFINNI_PUBLIC_URL=https://pfinni.practice.example/base")
	a, err := Open(ctx, cfg, Options{Out: &bytes.Buffer{}})
	require.NoError(t, err)
	defer a.Close(ctx)
	require.True(t, a.Email.Enabled())
	sys := actor.System(ctx)
	u, err := a.Auth.CreateUser(sys, auth.NewUser{Email: "new@practice.example", Name: "New", Role: actor.RoleStaff, Password: "a long enough password 1"})
	require.NoError(t, err)
	_, sent, err := a.Email.Invite(sys, a.Auth, u.ID)
	require.NoError(t, err)
	require.True(t, sent)
	require.Eventually(t, func() bool { return len(stub.Messages()) == 1 }, 30*time.Second, 50*time.Millisecond)
	m := stub.Messages()[0]
	assert.Equal(t, "Practice <pfinni@practice.example>", m.From)
	assert.True(t, strings.Contains(m.Text, "https://pfinni.practice.example/base/set-password?token="), m.Text)

	off, err := Open(ctx, testConfig(t), Options{Out: &bytes.Buffer{}, NoHTTP: true})
	require.NoError(t, err)
	defer off.Close(ctx)
	assert.False(t, off.Email.Enabled())
	assert.Equal(t, "http://127.0.0.1:8080", emailBaseURL(off.Config))
}
