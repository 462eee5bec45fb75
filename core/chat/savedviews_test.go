package chat

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSavedViewName: the phrasings that ask for a saved view by name,
// and questions that only look alike.
func TestSavedViewName(t *testing.T) {
	cases := []struct {
		msg, name string
		ok        bool
	}{
		{"show my view Overdue onboarding", "Overdue onboarding", true},
		{"Show my saved view “Overdue onboarding”?", "Overdue onboarding", true},
		{"please open the shared view 'New this week'.", "New this week", true},
		{"run view called Churned in March", "Churned in March", true},
		{"open view named VIP", "VIP", true},
		{"show me view X", "X", true},
		{"show me all active patients", "", false},
		{"how do I save a view?", "", false},
		{"show my view", "", false},
		{"overview of onboarding", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.msg, func(t *testing.T) {
			name, ok := savedViewName(tc.msg)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.name, name)
		})
	}
}
