package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Messages the test engine cannot easily be made to produce: a
// transaction conflict keeps its kind, and an unknown message keeps only
// the engine's words before its first possible value.
func TestDescribeKindsAndUnknownMessages(t *testing.T) {
	for _, tc := range []struct {
		msg, want string
		kind      error
	}{
		{"Failed to commit transaction due to a read or write conflict. This transaction can be retried", "transaction conflict: can be retried", ErrTxConflict},
		{"Not enough permissions to perform this action", "the database refused the query: Not enough permissions to perform this action (details withheld: they may quote stored values)", nil},
		{"Something new happened with 'Jane Doe' in `patient:p1`", "the database refused the query: Something new happened with (details withheld: they may quote stored values)", nil},
		{"Value 19800203 is odd", "the database refused the query: Value (details withheld: they may quote stored values)", nil},
		{"'Jane'", "the database refused the query", nil},
		{"An error occurred: pfinni:stale", "An error occurred: pfinni:stale", nil},
		{"An error occurred: Jane Doe was here", "the database refused the query: An error occurred (details withheld: they may quote stored values)", nil},
	} {
		got, kind := describe(tc.msg)
		assert.Equal(t, tc.want, got, tc.msg)
		assert.Equal(t, tc.kind, kind, tc.msg)
	}
}

// A failed transaction reports every statement; each is described, the
// repeats once, and pfinni's THROW marker survives for the caller.
func TestDescribeJoinedStatementErrors(t *testing.T) {
	err := fmt.Errorf("query: %w", errors.Join(
		errors.New("The query was not executed due to a failed transaction"),
		errors.New("An error occurred: pfinni:stale"),
		errors.New("The query was not executed due to a failed transaction"),
		errors.New("Found 'Jane' for field `s`, with record `p:1`, but field must conform to: $value IN ['a']"),
	))
	got, kind := describeErr(err)
	assert.Equal(t, "not run: another statement of the transaction failed; An error occurred: pfinni:stale; field `s`: the value fails the field's ASSERT", got)
	assert.Nil(t, kind)
}
