package fault

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKindsSurviveWrapping(t *testing.T) {
	err := fmt.Errorf("create patient: %w", New(ErrConflict, "mrn already in use"))
	assert.ErrorIs(t, err, ErrConflict)
	assert.NotErrorIs(t, err, ErrInvalid)
	assert.Equal(t, "create patient: mrn already in use", err.Error())
	assert.ErrorIs(t, Newf(ErrNotFound, "patient %s", "p_1"), ErrNotFound)
}

func TestFields(t *testing.T) {
	var f Fields
	assert.NoError(t, f.Err())
	f.Add("last_name", "is required")
	f.Add("date_of_birth", "must be a real date")
	err := f.Err()
	assert.ErrorIs(t, err, ErrInvalid)
	var got Fields
	assert.True(t, errors.As(fmt.Errorf("wrap: %w", err), &got))
	assert.Equal(t, "date_of_birth", got[0].Field, "sorted by field")
	assert.Equal(t, "invalid input: date_of_birth: must be a real date; last_name: is required", err.Error())
	assert.ErrorIs(t, Field("mrn", "taken"), ErrInvalid)
}
