package patient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/store"
)

func TestSeed(t *testing.T) {
	f := newFixture(t, WithoutLive())
	sys := actor.System(context.Background())
	start := time.Now()
	require.NoError(t, Seed(sys, f.svc, 1200, 42))
	t.Logf("seeded 1200 patients in %v", time.Since(start))
	assert.Equal(t, 1200, f.svc.Count())
	assert.ErrorContains(t, Seed(sys, f.svc, 10, 42), "already present")
	assert.Error(t, Seed(sys, f.svc, -1, 42))

	st, err := f.svc.Stats(f.ctx)
	require.NoError(t, err)
	share := func(s Status) float64 { return float64(st.ByStatus[s]) / 1200 }
	assert.InDelta(t, 0.15, share(StatusOnboarding), 0.04)
	assert.InDelta(t, 0.60, share(StatusActive), 0.05)
	assert.InDelta(t, 0.15, share(StatusInactive), 0.04)
	assert.InDelta(t, 0.10, share(StatusChurned), 0.03)
	assert.Greater(t, st.StuckOnboarding, 20)
	assert.Greater(t, st.UpcomingBirthdays, 50)
	assert.InDelta(t, 0.20, float64(st.Missing["insurance"])/1200, 0.05)
	assert.Greater(t, st.Missing["phone"], 30)
	assert.Greater(t, st.Missing["email"], 50)
	assert.Equal(t, 0, st.Missing["address"])
	newMonths := 0
	for _, b := range st.NewPerMonth {
		newMonths += b.Count
	}
	assert.Greater(t, newMonths, 300)
	weekly := 0
	for _, b := range st.TransitionsPerWeek {
		weekly += b.Total
	}
	assert.Greater(t, weekly, 10)

	// Deterministic: the same seed gives the same people.
	g := newFixture(t, WithoutLive())
	require.NoError(t, Seed(sys, g.svc, 1200, 42))
	pa, err := f.svc.List(f.ctx, Filter{Limit: 200})
	require.NoError(t, err)
	pb, err := g.svc.List(g.ctx, Filter{Limit: 200})
	require.NoError(t, err)
	assert.Equal(t, pa.Items, pb.Items)

	// The typo search finds seeded people; every provider exists.
	page, err := f.svc.List(f.ctx, Filter{Q: "Jonh Smtih"})
	require.NoError(t, err)
	require.NotEmpty(t, page.Items)
	assert.Equal(t, "John", page.Items[0].FirstName)
	assert.Contains(t, page.Items[0].LastName, "Smith")
	provs, err := f.svc.ListProviders(f.ctx)
	require.NoError(t, err)
	assert.Len(t, provs, 20)

	// Histories are valid paths through the workflow.
	rows, err := store.Query[[]StatusChange](context.Background(), f.db, "SELECT * FROM status_change WHERE from != ''", nil)
	require.NoError(t, err)
	assert.Greater(t, len(rows), 1000)
	for _, r := range rows {
		_, ok := transition(r.From, r.To)
		assert.True(t, ok, "%s->%s", r.From, r.To)
		if r.To == StatusChurned {
			assert.NotEmpty(t, r.Reason)
		}
	}
}

func TestStats(t *testing.T) {
	st := newTestState(people())
	st.transitions = []StatusChange{
		{From: StatusOnboarding, To: StatusActive, At: testNow.Add(-time.Hour)},
		{From: StatusActive, To: StatusChurned, At: testNow.AddDate(0, 0, -8)},
		{From: StatusActive, To: StatusChurned, At: testNow.AddDate(-1, 0, 0)},
	}
	s := st.stats(testNow, StatsOptions{Weeks: 6, Months: 3, BirthdayDays: 7, StuckDays: 14}, scope{})
	assert.Equal(t, 6, s.Total)
	assert.Equal(t, map[Status]int{StatusOnboarding: 2, StatusActive: 2, StatusInactive: 1, StatusChurned: 1}, s.ByStatus)
	require.Len(t, s.NewPerWeek, 6)
	assert.Equal(t, "2026-03-09", s.NewPerWeek[5].Start, "weeks start on Monday")
	assert.Equal(t, 1, s.NewPerWeek[5].Count)
	assert.Equal(t, 0, s.NewPerWeek[4].Count)
	assert.Equal(t, 5, s.NewPerWeek[0].Count, "created 30 days ago")
	require.Len(t, s.NewPerMonth, 3)
	assert.Equal(t, "2026-01-01", s.NewPerMonth[0].Start)
	assert.Equal(t, 5, s.NewPerMonth[1].Count)
	assert.Equal(t, 1, s.NewPerMonth[2].Count)
	assert.Equal(t, 1, s.TransitionsPerWeek[5].Counts["onboarding->active"])
	assert.Equal(t, 1, s.TransitionsPerWeek[4].Counts["active->churned"])
	assert.Equal(t, 2, s.UpcomingBirthdays)
	assert.Equal(t, 2, s.StuckOnboarding, "p_03 and p_06: status changed 30 days ago")
	assert.Equal(t, map[string]int{"phone": 1, "email": 1, "insurance": 1, "provider": 1, "address": 1}, s.Missing)
	d := st.stats(testNow, StatsOptions{}, scope{})
	assert.Len(t, d.NewPerWeek, 12)
	assert.Len(t, d.NewPerMonth, 12)
	assert.Equal(t, 30, d.BirthdayDays)
	assert.Equal(t, 14, d.StuckDays)
}
