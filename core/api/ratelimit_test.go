package api

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/config"
)

// Signed-in requests are limited per user, anonymous ones per client
// address, and a refused credential counts against the address.
func TestRateLimitPerUserAndPerAddress(t *testing.T) {
	env := newAuthEnv(t, auth.Options{}, func(c *config.Config) { c.APIRateLimit = 5 })
	app := env.srv.App()
	admin := env.login(t, "admin@x.example") // sign-ins are anonymous: 2 of the address's 5
	staff := env.login(t, "staff@x.example")

	get := func(hdr ...string) int {
		res, _ := do(t, app, "GET", "/api/v1/auth/me", "", hdr...)
		return res.StatusCode
	}
	var codes []int
	for range 6 {
		codes = append(codes, get("Authorization", "Bearer "+admin.token))
	}
	assert.Equal(t, []int{200, 200, 200, 200, 200, 429}, codes, "the admin's own budget")
	assert.Equal(t, 200, get("Authorization", "Bearer "+staff.token), "another user has another")

	codes = codes[:0]
	for range 4 {
		codes = append(codes, get("Authorization", "Bearer not-a-token"))
	}
	assert.Equal(t, []int{401, 401, 401, 429}, codes, "refused credentials use the address's budget (3 left after two sign-ins)")
	require.Equal(t, 429, get(), "and so do anonymous requests")
}
