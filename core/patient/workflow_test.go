package patient

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAllowedFrom(t *testing.T) {
	cases := []struct {
		from Status
		want []Status
	}{
		{StatusOnboarding, []Status{StatusActive, StatusChurned}},
		{StatusActive, []Status{StatusInactive, StatusChurned}},
		{StatusInactive, []Status{StatusActive, StatusChurned}},
		{StatusChurned, []Status{StatusActive}},
		{"bogus", nil},
	}
	for _, c := range cases {
		t.Run(string(c.from), func(t *testing.T) {
			assert.Equal(t, c.want, AllowedFrom(c.from))
		})
	}
}

func TestTransitionsTable(t *testing.T) {
	ts := Transitions()
	assert.Len(t, ts, 7)
	ts[0].To = "mutated"
	assert.Equal(t, StatusActive, Transitions()[0].To, "Transitions returns a copy")
	for _, tr := range Transitions() {
		assert.Equal(t, tr.To == StatusChurned || tr.From == StatusChurned, tr.ReasonRequired, "%s->%s", tr.From, tr.To)
	}
	assert.Equal(t, "none", joinStatuses(nil))
	assert.False(t, Status("x").Valid())
	assert.Equal(t, int64(99), Status("x").rank())
}
