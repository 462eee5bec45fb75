package sdk_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
)

func TestHostContextFrom(t *testing.T) {
	raw := `{"today":"2026-03-18","providers":[{"id":"provider:1","name":"Dr. Olivia Chen"}],"cities":["Boston"],
		"stats":{"total":3,"by_status":{"active":2},"new_per_week":[{"start":"2026-03-16","count":1}],
		"transitions_per_week":[{"start":"2026-03-16","counts":{"onboarding->active":1},"total":1}],"missing":{"email":1}},
		"form":{"name":"patient","errors":[{"field":"email","message":"is not an e-mail address"}]},
		"role":"staff","previous":"status=active"}`
	var ents map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"host":`+raw+`}`), &ents))

	h := sdk.HostContextFrom(ents)
	day, ok := h.Day()
	require.True(t, ok)
	assert.Equal(t, time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC), day)
	assert.Equal(t, []sdk.Term{{ID: "provider:1", Name: "Dr. Olivia Chen"}}, h.Providers)
	assert.Equal(t, []string{"Boston"}, h.Cities)
	require.NotNil(t, h.Stats)
	assert.Equal(t, 2, h.Stats.ByStatus["active"])
	assert.Equal(t, []sdk.CountBucket{{Start: "2026-03-16", Count: 1}}, h.Stats.NewPerWeek)
	assert.Equal(t, 1, h.Stats.TransitionsPerWeek[0].Counts["onboarding->active"])
	assert.Equal(t, 1, h.Stats.Missing[sdk.MissingEmail])
	require.NotNil(t, h.Form)
	assert.Equal(t, "email", h.Form.Errors[0].Field)
	assert.Equal(t, "staff", h.Role)
	assert.Equal(t, "status=active", h.Previous)

	for name, ents := range map[string]map[string]any{
		"none":      nil,
		"malformed": {sdk.HostContextKey: func() {}},
		"wrong":     {sdk.HostContextKey: "today"},
	} {
		t.Run(name, func(t *testing.T) {
			h := sdk.HostContextFrom(ents)
			_, ok := h.Day()
			assert.False(t, ok)
			assert.Nil(t, h.Stats)
			_, err := sdk.ParseHostContext(ents)
			if name == "none" {
				assert.NoError(t, err)
			} else {
				assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
			}
		})
	}
}

func TestPatientListReply(t *testing.T) {
	r := sdk.PatientListReply("patients.count", "{total} {patients} have no e-mail address.",
		url.Values{sdk.FilterMissing: {sdk.MissingEmail}, sdk.FilterStatus: {"active"}})
	assert.Equal(t, "patients.count", r.Intent)
	assert.Equal(t, "missing=email&status=active", r.Data[sdk.DataQuery])

	q, ok, err := sdk.PatientListQueryOf(r)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, sdk.MissingEmail, q.Get(sdk.FilterMissing))

	_, ok, err = sdk.PatientListQueryOf(sdk.IntentReply{Reply: "hello"})
	assert.False(t, ok)
	assert.NoError(t, err)

	_, ok, err = sdk.PatientListQueryOf(sdk.IntentReply{Data: map[string]any{sdk.DataQuery: "status=%zz"}})
	assert.True(t, ok)
	var se *sdk.Error
	require.True(t, errors.As(err, &se))
	assert.Equal(t, sdk.CodeInvalidInput, se.Code)
}

func TestFillCount(t *testing.T) {
	for _, tc := range []struct {
		total int
		want  string
	}{
		{0, "0 patients have no e-mail address."},
		{1, "1 patient have no e-mail address."},
		{12, "12 patients have no e-mail address."},
	} {
		assert.Equal(t, tc.want, sdk.FillCount("{total} {patients} have no e-mail address.", tc.total))
	}
}

func TestFilterKeysAndMissingValuesAreDistinct(t *testing.T) {
	for name, list := range map[string][]string{"filter keys": sdk.PatientFilterKeys(), "missing values": sdk.MissingValues()} {
		seen := map[string]bool{}
		for _, k := range list {
			assert.False(t, seen[k], "%s: %q twice", name, k)
			assert.NotEmpty(t, k)
			seen[k] = true
		}
	}
	assert.Contains(t, sdk.PatientFilterKeys(), sdk.FilterMissing)
	assert.Len(t, sdk.MissingValues(), 5)
}

func TestDecodeResult(t *testing.T) {
	ok, err := sdk.DecodeResult(sdk.EncodeOK(map[string]int{"n": 1}))
	require.NoError(t, err)
	assert.JSONEq(t, `{"n":1}`, string(ok))

	_, err = sdk.DecodeResult(sdk.EncodeError(sdk.Errorf(sdk.CodeForbidden, "no")))
	var se *sdk.Error
	require.True(t, errors.As(err, &se))
	assert.Equal(t, sdk.CodeForbidden, se.Code)

	for _, bad := range []string{"nope", `{}`} {
		_, err = sdk.DecodeResult([]byte(bad))
		assert.ErrorIs(t, err, sdk.ErrMalformed, bad)
	}
}
