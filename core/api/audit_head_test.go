package api

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
)

// GET /audit/head exports the chain's newest event so an auditor can
// anchor it elsewhere; verify against it passes, and staff may not read it.
func TestAuditAPIHead(t *testing.T) {
	env := newAuditEnv(t)
	res, body := do(t, env.srv.App(), "GET", "/api/v1/audit/head", "", env.bearer(actor.RoleAuditor)...)
	require.Equal(t, 200, res.StatusCode, string(body))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	var head struct {
		Seq   int64  `json:"seq"`
		Hash  string `json:"hash"`
		KeyID string `json:"key_id"`
		At    string `json:"at"`
	}
	require.NoError(t, json.Unmarshal(body, &head))
	assert.Positive(t, head.Seq, "user creation and logins are in the chain")
	assert.Len(t, head.Hash, 64)
	assert.NotEmpty(t, head.At)

	rep, err := env.log.VerifyAnchor(actor.System(t.Context()), audit.Anchor{Seq: head.Seq, Hash: head.Hash})
	require.NoError(t, err)
	assert.True(t, rep.OK, rep.String())

	res, _ = do(t, env.srv.App(), "GET", "/api/v1/audit/head", "", env.bearer(actor.RoleStaff)...)
	assert.Equal(t, 403, res.StatusCode)
}
