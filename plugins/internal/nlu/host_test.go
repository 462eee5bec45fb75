package nlu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
)

// VocabCache answers like VocabulariesOf, builds once for the same lists
// and again when they change (a provider renamed, a city added).
func TestVocabCache(t *testing.T) {
	h := sdk.HostContext{Providers: []sdk.Term{{ID: "provider:1", Name: "Dr. Ana Ruiz"}}, Cities: []string{"Springfield"}}
	var c VocabCache
	first := c.Of(h)
	assert.Same(t, first.Providers, c.Of(h).Providers, "the same lists reuse the built vocabulary")
	cityOf := func(v Vocabularies, msg string) string {
		q := Extract(Parse(msg), today, v)
		if q.City == nil {
			return ""
		}
		return q.City.Term.Name
	}
	assert.Equal(t, "Springfield", cityOf(first, "patients in springfeild"))

	h2 := h
	h2.Cities = []string{"Springfield", "Shelbyville"}
	next := c.Of(h2)
	assert.NotSame(t, first.Cities, next.Cities, "a changed list is built again")
	assert.Equal(t, "Shelbyville", cityOf(next, "patients in shelbyville"))
	assert.Equal(t, cityOf(VocabulariesOf(h2), "patients in shelbyville"), cityOf(next, "patients in shelbyville"))

	h3 := h2
	h3.Providers = []sdk.Term{{ID: "provider:1", Name: "Dr. Ana Ruiz-Lopez"}}
	require.NotSame(t, next.Providers, c.Of(h3).Providers, "a renamed provider is built again")

	var none *VocabCache
	assert.Equal(t, "Springfield", cityOf(none.Of(h), "patients in springfield"), "a nil cache builds every time")
}
