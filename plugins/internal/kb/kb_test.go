package kb_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/internal/kb"
	"github.com/pfinni/pfinni/plugins/kb-guide/guidekb"
	"github.com/pfinni/pfinni/plugins/kb-hipaa/hipaa"
	"github.com/pfinni/pfinni/sdk"
)

func TestSearch(t *testing.T) {
	h, g := hipaa.Module(), guidekb.Module()
	for _, tc := range []struct {
		mod   *kb.Module
		query string
		best  string
		cite  string
	}{
		{h, "what is the minimum necessary rule", "hipaa-minimum-necessary", "45 CFR 164.502(b)"},
		{h, "HIPAA audit controls", "hipaa-audit-controls", "45 CFR 164.312(b)"},
		{h, "what counts as PHI?", "hipaa-phi", "45 CFR 160.103"},
		{h, "what should we do after a data breach", "hipaa-breach", "45 CFR 164.402"},
		{h, "how long must audit logs be kept", "hipaa-retention", "45 CFR 164.316(b)(2)"},
		{h, "who should have access to patient records", "hipaa-access-control", "45 CFR 164.312(a)(1)"},
		{h, "can I email patient information", "hipaa-communications", "45 CFR 164.522(b)"},
		{h, "breaches", "hipaa-breach", ""},
		{h, "brech notification", "hipaa-breach", ""},
		{g, "best practices for onboarding new patients", "bp-onboarding", "docs/chat.md#onboarding"},
		{g, "I can't log in", "ts-login", ""},
		{g, "the app is slow", "ts-slow", ""},
	} {
		res, err := tc.mod.Search(context.Background(), sdk.KBSearchRequest{Query: tc.query, Limit: 2})
		require.NoError(t, err)
		require.NotEmpty(t, res.Articles, tc.query)
		assert.LessOrEqual(t, len(res.Articles), 2)
		a := res.Articles[0]
		assert.Equal(t, tc.best, a.ID, tc.query)
		assert.GreaterOrEqual(t, a.Score, 0.3, tc.query)
		require.NotEmpty(t, a.Citations, "every article cites its source")
		if tc.cite != "" {
			assert.Equal(t, tc.cite, a.Citations[0].Source)
		}
	}
	for _, q := range []string{"what's the weather like today", "write me a poem", "", "the and of"} {
		res, err := h.Search(context.Background(), sdk.KBSearchRequest{Query: q})
		require.NoError(t, err)
		for _, a := range res.Articles {
			assert.Less(t, a.Score, 0.3, q)
		}
	}
	res, err := h.Search(context.Background(), sdk.KBSearchRequest{Query: "audit", Topics: []string{"breach"}})
	require.NoError(t, err)
	for _, a := range res.Articles {
		assert.Contains(t, a.Topics, "breach")
	}
	for _, a := range append(hipaa.Articles, guidekb.Articles...) {
		assert.NotEmpty(t, a.Citations, a.ID)
		assert.NotEmpty(t, a.Summary, a.ID)
	}
	for _, a := range hipaa.Articles {
		assert.Contains(t, a.Citations[0].URL, "https://www.ecfr.gov/current/title-45/section-1")
	}
}
