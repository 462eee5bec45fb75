package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	stubinsurer "github.com/pfinni/pfinni/plugins/stub-insurer"
	"github.com/pfinni/pfinni/sdk"
)

// newAdapter runs the adapter natively against an in-process stub
// insurer, with a plain client (no host egress proxy here; the test
// through the real host in core/eligibility covers that path).
func newAdapter(t *testing.T, cfg map[string]any, stub stubinsurer.Options) *adapter {
	t.Helper()
	srv := httptest.NewServer(stubinsurer.New(stub))
	t.Cleanup(srv.Close)
	if cfg == nil {
		cfg = map[string]any{}
	}
	cfg["url"] = srv.URL + "/x12"
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	a := &adapter{client: func(d time.Duration) *http.Client { return &http.Client{Timeout: d} }, now: time.Now}
	require.NoError(t, a.init(context.Background(), raw))
	return a
}

func request(member string) sdk.EligibilityRequest {
	return sdk.EligibilityRequest{Payer: "Acme Health", MemberID: member, FirstName: "Jane", LastName: "Doe",
		DateOfBirth: "1980-02-29", ServiceType: "30", ControlNumber: "1234"}
}

func TestEveryStubCase(t *testing.T) {
	a := newAdapter(t, map[string]any{"timeout": "500ms"}, stubinsurer.Options{})
	ctx := context.Background()

	t.Run("active", func(t *testing.T) {
		res, err := a.CheckEligibility(ctx, request("ACT001"))
		require.NoError(t, err)
		assert.Equal(t, "active", res.Status)
		assert.Equal(t, "STUB GOLD PPO", res.PlanName)
		assert.Equal(t, "2026-01-01", res.CoverageStart)
		assert.Equal(t, "2026-12-31", res.CoverageEnd)
		assert.Equal(t, "000001234", res.ControlNumber)
		assert.Contains(t, res.Request, "ST*270*")
		assert.Contains(t, res.Raw, "ST*271*")
		assert.Nil(t, res.Rejection)
		var copay *sdk.Benefit
		for i, b := range res.Coverage {
			if b.Code == "B" && b.ServiceType == "98" {
				copay = &res.Coverage[i]
			}
		}
		require.NotNil(t, copay, "the office visit co-payment is read")
		assert.Equal(t, 20.0, copay.Copay)
		assert.True(t, copay.InNetwork)
		assert.Equal(t, "IND", copay.CoverageLevel)
		assert.Contains(t, copay.Description, "Co-payment")
	})
	t.Run("inactive", func(t *testing.T) {
		res, err := a.CheckEligibility(ctx, request("INA001"))
		require.NoError(t, err)
		assert.Equal(t, "inactive", res.Status)
		assert.Equal(t, "2025-12-31", res.CoverageEnd)
	})
	t.Run("not found", func(t *testing.T) {
		res, err := a.CheckEligibility(ctx, request("NF001"))
		require.NoError(t, err)
		assert.Equal(t, "not_found", res.Status)
		require.NotNil(t, res.Rejection)
		assert.Equal(t, "75", res.Rejection.Code)
		assert.Equal(t, "C", res.Rejection.FollowUp)
	})
	t.Run("busy, then answered", func(t *testing.T) {
		res, err := a.CheckEligibility(ctx, request("BUSY001"))
		require.NoError(t, err)
		assert.Equal(t, "error", res.Status)
		require.NotNil(t, res.Rejection)
		assert.Equal(t, "42", res.Rejection.Code)
		res, err = a.CheckEligibility(ctx, request("BUSY001"))
		require.NoError(t, err)
		assert.Equal(t, "active", res.Status)
	})
	t.Run("slow: times out", func(t *testing.T) {
		res, err := a.CheckEligibility(ctx, request("SLOW001"))
		require.NoError(t, err)
		assert.Equal(t, "error", res.Status)
		require.NotNil(t, res.Rejection)
		assert.Equal(t, CodeTimeout, res.Rejection.Code)
		assert.Contains(t, res.Rejection.Reason, "did not answer within 500ms")
	})
	t.Run("garbled 271 refused", func(t *testing.T) {
		res, err := a.CheckEligibility(ctx, request("BAD001"))
		require.NoError(t, err)
		assert.Equal(t, "error", res.Status, "never active on a 271 that does not parse")
		require.NotNil(t, res.Rejection)
		assert.Equal(t, CodeInvalidResponse, res.Rejection.Code)
		assert.Contains(t, res.Rejection.Reason, "SE01")
		assert.Contains(t, res.Rejection.Reason, "IEA02")
		assert.Empty(t, res.Coverage)
		assert.Contains(t, res.Raw, "ST*271*", "the garbled answer is kept for troubleshooting")
	})
}

func TestUnreachableInsurer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	a := &adapter{client: func(d time.Duration) *http.Client { return &http.Client{Timeout: d} }, now: time.Now}
	require.NoError(t, a.init(context.Background(), json.RawMessage(`{"url":"`+url+`"}`)))
	res, err := a.CheckEligibility(context.Background(), request("ACT001"))
	require.NoError(t, err)
	assert.Equal(t, "error", res.Status)
	assert.Equal(t, CodeUnreachable, res.Rejection.Code)
}

func TestCredentialsAreSent(t *testing.T) {
	a := newAdapter(t, map[string]any{"username": "practice", "password": "s3cret"}, stubinsurer.Options{Username: "practice", Password: "s3cret"})
	res, err := a.CheckEligibility(context.Background(), request("ACT001"))
	require.NoError(t, err)
	assert.Equal(t, "active", res.Status)

	wrong := newAdapter(t, map[string]any{"username": "practice", "password": "nope"}, stubinsurer.Options{Username: "practice", Password: "s3cret"})
	res, err = wrong.CheckEligibility(context.Background(), request("ACT001"))
	require.NoError(t, err)
	assert.Equal(t, "error", res.Status)
	assert.Contains(t, res.Rejection.Reason, "HTTP 401")
}

func TestRefusesBadInput(t *testing.T) {
	a := newAdapter(t, nil, stubinsurer.Options{})
	_, err := a.CheckEligibility(context.Background(), sdk.EligibilityRequest{Payer: "Acme"})
	assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
	req := request("ACT001")
	req.DateOfBirth = "29/02/1980"
	_, err = a.CheckEligibility(context.Background(), req)
	assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))

	bad := &adapter{}
	assert.Error(t, bad.init(context.Background(), json.RawMessage(`{"url":"ftp://x"}`)))
	assert.Error(t, bad.init(context.Background(), json.RawMessage(`{"url":"http://x","timeout":"soon"}`)))
}
