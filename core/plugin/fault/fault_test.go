package fault

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
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
