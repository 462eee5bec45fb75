package fault

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/sdk"
)

func TestFault(t *testing.T) {
	base := errors.New("boom")
	err := fmt.Errorf("wrapped: %w", New("p", "intent.handle", Trap, base))
	assert.Equal(t, Trap, KindOf(err))
	assert.True(t, Counts(err))
	assert.ErrorIs(t, err, base)
	assert.Equal(t, `wrapped: plugin "p" intent.handle: trap: boom`, err.Error())
	assert.Equal(t, `plugin "p": unavailable`, New("p", "", Unavailable, nil).Error())
	assert.False(t, Counts(New("p", "", Unavailable, nil)))
	assert.False(t, Counts(base))
	assert.Equal(t, Kind(""), KindOf(nil))
}

// Labels carry no plugin text: a guest's stderr hint or an error message
// a plugin chose never reaches telemetry or an import's detail.
func TestLabelCarriesNoPluginText(t *testing.T) {
	secret := errors.New("panic: patient Ada Lovelace 1970-01-02")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"fault", fmt.Errorf("import: %w", New("p", "import.parse", Panic, secret)), "panic"},
		{"plugin error", &sdk.Error{Code: sdk.CodeInvalidInput, Message: "Ada Lovelace has no MRN"}, "plugin_error:invalid_input"},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), "canceled"},
		{"deadline", context.DeadlineExceeded, "deadline_exceeded"},
		{"other", secret, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Label(tc.err))
			r := Redacted(tc.err)
			if tc.err == nil {
				assert.NoError(t, r)
				return
			}
			assert.Equal(t, tc.want, r.Error())
			assert.NotContains(t, r.Error(), "Lovelace")
			assert.ErrorIs(t, r, tc.err)
		})
	}
}
