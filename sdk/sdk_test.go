package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/sdktest"
)

type all struct{}

func (all) Match(_ context.Context, r sdk.MatchRequest) (sdk.MatchResult, error) {
	return sdk.MatchResult{Intent: "a.b", Score: 0.5, Entities: map[string]any{"page": r.Context.Page}}, nil
}
func (all) Handle(ctx context.Context, r sdk.IntentRequest) (sdk.IntentReply, error) {
	if r.Message == "panic" {
		panic("boom")
	}
	if r.Message == "fail" {
		return sdk.IntentReply{}, errors.New("plain failure")
	}
	list, err := sdk.HostFrom(ctx).SearchPatients(ctx, sdk.PatientQuery{Status: "active"})
	if err != nil {
		return sdk.IntentReply{}, err
	}
	return sdk.IntentReply{Reply: r.Message, Data: map[string]any{"total": list.Total}}, nil
}
func (all) Search(context.Context, sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	return sdk.KBSearchResult{Articles: []sdk.Article{{ID: "a", Citations: []sdk.Citation{{Title: "t"}}}}}, nil
}
func (all) Import(_ context.Context, r sdk.ImportRequest) (sdk.ImportResult, error) {
	return sdk.ImportResult{Records: []sdk.PatientRecord{{MRN: string(r.Document)}}}, nil
}
func (all) CheckEligibility(context.Context, sdk.EligibilityRequest) (sdk.EligibilityResponse, error) {
	return sdk.EligibilityResponse{Status: "active"}, nil
}

func plugin() sdk.Plugin {
	a := all{}
	return sdk.Plugin{Name: "all", Intent: a, Knowledge: a, Importer: a, Insurance: a}
}

func TestDispatchEveryHook(t *testing.T) {
	ctx := context.Background()
	p := plugin()
	host := &sdktest.Host{Patients: []sdk.PatientSummary{{ID: "1", Status: "active"}, {ID: "2", Status: "churned"}}}
	assert.Equal(t, []string{sdk.HookIntentMatch, sdk.HookIntentHandle, sdk.HookKBSearch, sdk.HookImport, sdk.HookEligibility}, p.Hooks())

	var m sdk.MatchResult
	require.NoError(t, sdktest.Call(ctx, p, host, sdk.HookIntentMatch, sdk.MatchRequest{Message: "x", Context: sdk.PageContext{Page: "/p"}}, &m))
	assert.Equal(t, "/p", m.Entities["page"])
	var r sdk.IntentReply
	require.NoError(t, sdktest.Call(ctx, p, host, sdk.HookIntentHandle, sdk.IntentRequest{Message: "hi"}, &r))
	assert.EqualValues(t, 1, r.Data["total"])
	var kb sdk.KBSearchResult
	require.NoError(t, sdktest.Call(ctx, p, host, sdk.HookKBSearch, sdk.KBSearchRequest{}, &kb))
	assert.Len(t, kb.Articles, 1)
	var imp sdk.ImportResult
	require.NoError(t, sdktest.Call(ctx, p, host, sdk.HookImport, sdk.ImportRequest{Document: []byte("M1")}, &imp))
	assert.Equal(t, "M1", imp.Records[0].MRN)
	var el sdk.EligibilityResponse
	require.NoError(t, sdktest.Call(ctx, p, host, sdk.HookEligibility, sdk.EligibilityRequest{}, &el))
	assert.Equal(t, "active", el.Status)
}

func TestDispatchErrors(t *testing.T) {
	ctx := context.Background()
	p := plugin()
	code := func(hook string, in []byte) string {
		var env sdk.Envelope
		require.NoError(t, json.Unmarshal(sdk.Dispatch(ctx, p, hook, in), &env))
		require.NotNil(t, env.Error, "hook %s", hook)
		return env.Error.Code
	}
	for _, h := range p.Hooks() {
		assert.Equal(t, sdk.CodeInvalidInput, code(h, []byte("{")), h)
	}
	assert.Equal(t, sdk.CodeUnsupported, code("nope", []byte("{}")))
	assert.Equal(t, sdk.CodePanic, code(sdk.HookIntentHandle, []byte(`{"message":"panic"}`)))
	assert.Equal(t, sdk.CodeInternal, code(sdk.HookIntentHandle, []byte(`{"message":"fail"}`)))
	assert.Equal(t, sdk.CodeUnavailable, code(sdk.HookIntentHandle, []byte(`{"message":"no host"}`)), "no host in context")
	empty := sdk.Plugin{Name: "empty"}
	for _, h := range p.Hooks() {
		var env sdk.Envelope
		require.NoError(t, json.Unmarshal(sdk.Dispatch(ctx, empty, h, []byte("{}")), &env))
		assert.Equal(t, sdk.CodeUnsupported, env.Error.Code)
	}
	// Capability refusals from the fake host look like the real host's.
	host := &sdktest.Host{Capabilities: []string{}}
	err := sdktest.Call(ctx, p, host, sdk.HookIntentHandle, sdk.IntentRequest{Message: "x"}, nil)
	assert.Equal(t, sdk.CodeCapabilityDenied, sdk.CodeOf(err))
	_, err = host.KBSearch(ctx, sdk.KBSearchRequest{})
	assert.Equal(t, sdk.CodeCapabilityDenied, sdk.CodeOf(err))
	assert.Error(t, sdktest.Call(ctx, p, host, sdk.HookImport, func() {}, nil), "unencodable request")
}

func TestInitAndHealth(t *testing.T) {
	ctx := context.Background()
	var got string
	p := sdk.Plugin{Name: "p",
		Init: func(_ context.Context, cfg json.RawMessage) error {
			got = string(cfg)
			if got == `{"fail":true}` {
				return sdk.Errorf(sdk.CodeInvalidInput, "bad config")
			}
			if got == `{"panic":true}` {
				panic("init")
			}
			return nil
		},
		Health: func(context.Context) error { return errors.New("sick") },
	}
	var info map[string]any
	require.NoError(t, sdk.DecodeEnvelope(sdk.RunInit(ctx, p, nil), &info))
	assert.Equal(t, "{}", got)
	assert.Equal(t, sdk.Version, info["sdk"])
	assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(sdk.DecodeEnvelope(sdk.RunInit(ctx, p, []byte(`{"fail":true}`)), nil)))
	assert.Equal(t, sdk.CodePanic, sdk.CodeOf(sdk.DecodeEnvelope(sdk.RunInit(ctx, p, []byte(`{"panic":true}`)), nil)))
	assert.ErrorContains(t, sdk.DecodeEnvelope(sdk.RunHealth(ctx, p), nil), "sick")
	p.Health = func(context.Context) error { panic("h") }
	assert.Equal(t, sdk.CodePanic, sdk.CodeOf(sdk.DecodeEnvelope(sdk.RunHealth(ctx, p), nil)))
	assert.NoError(t, sdk.DecodeEnvelope(sdk.RunHealth(ctx, sdk.Plugin{}), nil))
}

func TestEnvelopeAndErrors(t *testing.T) {
	assert.Equal(t, `{"ok":{"a":1}}`, string(sdk.EncodeOK(map[string]int{"a": 1})))
	assert.Equal(t, sdk.CodeInternal, sdk.CodeOf(sdk.DecodeEnvelope(sdk.EncodeOK(func() {}), nil)))
	assert.Equal(t, `{"error":{"code":"internal","message":"x"}}`, string(sdk.EncodeError(errors.New("x"))))
	assert.ErrorContains(t, sdk.DecodeEnvelope([]byte("nope"), nil), "malformed envelope")
	assert.ErrorContains(t, sdk.DecodeEnvelope([]byte("{}"), nil), "neither ok nor error")
	var n int
	assert.ErrorContains(t, sdk.DecodeEnvelope([]byte(`{"ok":"x"}`), &n), "malformed result")
	assert.Equal(t, "m", (&sdk.Error{Message: "m"}).Error())
	assert.Equal(t, "c: m", sdk.Errorf("c", "m").Error())
	assert.Equal(t, sdk.CodeInternal, sdk.CodeOf(errors.New("x")))

	for v, want := range map[string]int{"1.2.3": 1, "v2.0.0": 2, " 0.1": 0} {
		got, err := sdk.Major(v)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := sdk.Major("x.1")
	assert.Error(t, err)
	assert.Equal(t, 1, must(sdk.Major(sdk.Version)))
	assert.Equal(t, sdk.ABIVersion, must(sdk.Major(sdk.Version)))
}

func TestHostHelpers(t *testing.T) {
	ctx := context.Background()
	h := sdk.HostFrom(ctx)
	_, err := h.SearchPatients(ctx, sdk.PatientQuery{})
	assert.ErrorIs(t, err, sdk.ErrNoHost)
	_, err = h.KBSearch(ctx, sdk.KBSearchRequest{})
	assert.ErrorIs(t, err, sdk.ErrNoHost)
	h.Log(ctx, sdk.LogInfo, "dropped")

	fake := &sdktest.Host{
		Patients: []sdk.PatientSummary{{ID: "1", FirstName: "Ada", Status: "active", ProviderID: "p1"}, {ID: "2", FirstName: "Alan", Status: "active", ProviderID: "p2"}},
		Articles: []sdk.Article{{ID: "a", Title: "HIPAA"}, {ID: "b", Title: "Other"}},
	}
	h = sdk.HostFrom(sdk.WithHost(ctx, fake))
	l, err := h.SearchPatients(ctx, sdk.PatientQuery{Text: "ada"})
	require.NoError(t, err)
	assert.Equal(t, 1, l.Total)
	l, _ = h.SearchPatients(ctx, sdk.PatientQuery{ProviderID: "p2"})
	assert.Equal(t, "2", l.Patients[0].ID)
	l, _ = h.SearchPatients(ctx, sdk.PatientQuery{Limit: 1})
	assert.Equal(t, 2, l.Total)
	assert.Len(t, l.Patients, 1)
	k, err := h.KBSearch(ctx, sdk.KBSearchRequest{Query: "hipaa"})
	require.NoError(t, err)
	assert.Len(t, k.Articles, 1)
	h.Log(ctx, sdk.LogInfo, "hello")
	assert.Equal(t, []string{"hello"}, fake.Logs())
}

func must(n int, err error) int {
	if err != nil {
		panic(err)
	}
	return n
}
