package store

import (
	"errors"
	"testing"
)

func TestRecordExistsVariants(t *testing.T) {
	for _, msg := range []string{
		"Database record `rate_counter:⟨login_fail|ab12⟩` already exists",
		"Database record `rate_counter:`login_fail|ab12`` already exists",
		"Database record rate_counter:abc already exists",
	} {
		text, kind := describe(msg)
		if !errors.Is(kind, ErrConflict) {
			t.Errorf("%q: kind %v text %q", msg, kind, text)
		}
	}
}
