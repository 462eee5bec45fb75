package manifest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The admin API returns provides with JSON names (snake_case), not Go's.
func TestProvidesJSONNames(t *testing.T) {
	b, err := json.Marshal(Provides{
		Intents:       []Intent{{Name: "echo.say", Examples: []string{"say hi"}}},
		ImportFormats: []string{"ccda"}, KBTopics: []string{"hipaa"}, Insurance: true,
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"intents":[{"name":"echo.say","examples":["say hi"]}],"import_formats":["ccda"],"kb_topics":["hipaa"],"insurance":true}`, string(b))
}
