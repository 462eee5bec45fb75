package patient

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/fault"
)

// people is a small directory for list tests (no database needed).
func people() []*Patient {
	mk := func(id, first, last, dob string, st Status, mods ...func(*Patient)) *Patient {
		p := &Patient{ID: id, MRN: "MRN-" + id, FirstName: first, LastName: last, DateOfBirth: dob, Sex: "unknown",
			Status: st, Version: 1, Phone: "(212) 555-01" + id[len(id)-2:], Email: fold(first) + "@example.org",
			Address:   Address{Line1: "1 Main", City: "Boston"},
			Insurance: Insurance{Payer: "Aetna", MemberID: "M"}, ProviderID: "pr_a",
			CreatedAt: testNow.AddDate(0, 0, -30), UpdatedAt: testNow.AddDate(0, 0, -30), StatusChangedAt: testNow.AddDate(0, 0, -30)}
		for _, m := range mods {
			m(p)
		}
		p.normalize()
		return p
	}
	return []*Patient{
		mk("p_01", "John", "Smith", "1980-03-10", StatusActive),                                                  // birthday today
		mk("p_02", "Jon", "Smyth", "1990-03-16", StatusActive, func(p *Patient) { p.ProviderID = "pr_b" }),       // in 6 days
		mk("p_03", "Johanna", "Smithson", "2000-12-31", StatusOnboarding, func(p *Patient) { p.Phone = "" }),     // far
		mk("p_04", "Mary", "Jones", "1984-02-29", StatusChurned, func(p *Patient) { p.Insurance = Insurance{} }), // leap day
		mk("p_05", "José", "García", "1975-03-09", StatusInactive, func(p *Patient) {
			p.Email, p.Tags = "", []string{"VIP"}
			p.Address = Address{}
		}),
		mk("p_06", "Anna", "Lee", "", StatusOnboarding, func(p *Patient) {
			p.ProviderID = ""
			p.CreatedAt = testNow.AddDate(0, 0, -1)
			p.UpdatedAt = testNow
			p.Address.City = "Denver"
		}),
	}
}

func newTestState(ps []*Patient) *state {
	st := newState()
	st.bulkLoad(ps)
	return st
}

func ids(p Page) []string {
	out := make([]string, len(p.Items))
	for i, it := range p.Items {
		out[i] = it.ID
	}
	return out
}

func TestListFilters(t *testing.T) {
	st := newTestState(people())
	today := dayOf(testNow)
	i := func(n int) *int { return &n }
	cases := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all by last name", Filter{}, []string{"p_05", "p_04", "p_06", "p_01", "p_03", "p_02"}},
		{"status", Filter{Statuses: []Status{StatusActive}}, []string{"p_01", "p_02"}},
		{"statuses", Filter{Statuses: []Status{StatusOnboarding, StatusChurned}}, []string{"p_04", "p_06", "p_03"}},
		{"provider", Filter{ProviderID: "pr_b"}, []string{"p_02"}},
		{"typo search", Filter{Q: "Jonh Smtih"}, []string{"p_01"}},
		{"typo first name", Filter{Q: "Jonh"}, []string{"p_01", "p_02", "p_04"}}, // jone(s): typo in a prefix, ranked last
		{"exact first", Filter{Q: "john smith"}, []string{"p_01", "p_03", "p_02"}},
		{"accent-insensitive", Filter{Q: "jose garcia"}, []string{"p_05"}},
		{"mrn", Filter{Q: "mrn-p_04"}, []string{"p_04"}},
		{"phone digits", Filter{Q: "555-0102"}, []string{"p_02"}},
		{"phone spaced", Filter{Q: "(212) 555 0106"}, []string{"p_06"}},
		{"email substring", Filter{Q: "anna@example"}, []string{"p_06", "p_03"}},
		{"nothing", Filter{Q: "zzzzzz"}, []string{}},
		{"birthday 1 day = today", Filter{BirthdayWithinDays: 1}, []string{"p_01"}},
		{"birthday 7 days", Filter{BirthdayWithinDays: 7}, []string{"p_01", "p_02"}},
		{"birthday sort", Filter{Sort: "birthday", BirthdayWithinDays: 366}, []string{"p_01", "p_02", "p_03", "p_04", "p_05"}},
		{"created range", Filter{CreatedFrom: testNow.AddDate(0, 0, -2)}, []string{"p_06"}},
		{"created to", Filter{CreatedTo: testNow.AddDate(0, 0, -2)}, []string{"p_05", "p_04", "p_01", "p_03", "p_02"}},
		{"updated", Filter{UpdatedFrom: testNow.Add(-time.Hour), UpdatedTo: testNow.Add(time.Hour)}, []string{"p_06"}},
		{"status changed", Filter{StatusChangedTo: testNow.AddDate(0, 0, -29)}, []string{"p_05", "p_04", "p_06", "p_01", "p_03", "p_02"}},
		{"missing phone", Filter{Missing: []string{"phone"}}, []string{"p_03"}},
		{"missing email+address", Filter{Missing: []string{"email", "address"}}, []string{"p_05"}},
		{"missing insurance", Filter{Missing: []string{"insurance"}}, []string{"p_04"}},
		{"missing provider", Filter{Missing: []string{"provider"}}, []string{"p_06"}},
		{"tag", Filter{Tag: "vip"}, []string{"p_05"}},
		{"city", Filter{City: "denver"}, []string{"p_06"}},
		{"age 40-50", Filter{AgeMin: i(40), AgeMax: i(50)}, []string{"p_04", "p_01"}},
		{"age min 50", Filter{AgeMin: i(50)}, []string{"p_05"}},
		{"sort -last_name", Filter{Sort: "-last_name"}, []string{"p_02", "p_03", "p_01", "p_06", "p_04", "p_05"}},
		{"sort first_name", Filter{Sort: "first_name"}, []string{"p_06", "p_03", "p_01", "p_02", "p_05", "p_04"}},
		{"sort created desc", Filter{Sort: "-created_at", Limit: 1}, []string{"p_06"}},
		{"sort updated", Filter{Sort: "-updated_at", Limit: 1}, []string{"p_06"}},
		{"sort dob", Filter{Sort: "date_of_birth"}, []string{"p_05", "p_01", "p_04", "p_02", "p_03", "p_06"}},
		{"sort status", Filter{Sort: "status"}, []string{"p_06", "p_03", "p_01", "p_02", "p_05", "p_04"}},
		{"sort mrn", Filter{Sort: "-mrn", Limit: 2}, []string{"p_06", "p_05"}},
		{"sort relevance without q", Filter{Sort: "relevance", Limit: 2}, []string{"p_05", "p_04"}},
		{"q with explicit sort", Filter{Q: "smith", Sort: "-last_name"}, []string{"p_02", "p_03", "p_01"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, c.f.validate())
			page, err := st.list(&c.f, today)
			require.NoError(t, err)
			assert.Equal(t, c.want, ids(page))
			if c.f.Limit == 0 {
				assert.Equal(t, len(c.want), page.Total)
			}
		})
	}
}

func TestBirthdayWindowWrapsYearAndLeapDay(t *testing.T) {
	ps := []*Patient{
		{ID: "p_a", MRN: "A", FirstName: "A", LastName: "A", DateOfBirth: "1970-01-02", Status: StatusActive, Version: 1},
		{ID: "p_b", MRN: "B", FirstName: "B", LastName: "B", DateOfBirth: "1984-02-29", Status: StatusActive, Version: 1},
		{ID: "p_c", MRN: "C", FirstName: "C", LastName: "C", DateOfBirth: "1999-12-30", Status: StatusActive, Version: 1},
	}
	st := newTestState(ps)
	cases := []struct {
		name  string
		today time.Time
		days  int
		want  []string
	}{
		{"year end wraps to january", time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC), 5, []string{"p_a", "p_c"}},
		{"leap birthday on feb 28 in a common year", time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC), 1, []string{"p_b"}},
		{"leap birthday on feb 29 in a leap year", time.Date(2028, 2, 28, 0, 0, 0, 0, time.UTC), 1, []string{}},
		{"leap year window", time.Date(2028, 2, 28, 0, 0, 0, 0, time.UTC), 2, []string{"p_b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, err := st.list(&Filter{BirthdayWithinDays: c.days}, c.today)
			require.NoError(t, err)
			assert.Equal(t, c.want, ids(page))
		})
	}
	assert.Equal(t, 0, daysUntilBirthday(2, 29, time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, 365, daysUntilBirthday(3, 1, time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, 41, ageOn(1984, 2, 29, time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, 42, ageOn(1984, 2, 29, time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)))
}

// TestCursorStableUnderWrites pages through a list while others add and
// remove patients: every patient present throughout is seen exactly once.
func TestCursorStableUnderWrites(t *testing.T) {
	var ps []*Patient
	for i := range 100 {
		ps = append(ps, &Patient{ID: fmt.Sprintf("p_%03d", i), MRN: fmt.Sprintf("M%03d", i), FirstName: "F",
			LastName: fmt.Sprintf("L%03d", (i*37)%100), Status: StatusActive, Version: 1, CreatedAt: testNow.Add(time.Duration(i) * time.Minute)})
	}
	for _, sortName := range []string{"last_name", "-last_name", "created_at", "-created_at", "birthday", "relevance"} {
		t.Run(sortName, func(t *testing.T) {
			st := newTestState(slices.Clone(ps))
			seen := map[string]int{}
			f := Filter{Sort: sortName, Limit: 7}
			removed := map[string]bool{}
			for round := 0; ; round++ {
				page, err := st.list(&f, dayOf(testNow))
				require.NoError(t, err)
				for _, it := range page.Items {
					seen[it.ID]++
				}
				// Concurrent writes between pages: delete one, add one.
				victim := fmt.Sprintf("p_%03d", (round*13)%100)
				st.remove(victim)
				removed[victim] = true
				st.upsert(&Patient{ID: fmt.Sprintf("p_new%03d", round), MRN: fmt.Sprintf("N%03d", round), LastName: "L050", FirstName: "F",
					Status: StatusActive, Version: 1, CreatedAt: testNow})
				if page.NextCursor == "" {
					break
				}
				f.Cursor = page.NextCursor
			}
			for _, p := range ps {
				if !removed[p.ID] {
					assert.Equal(t, 1, seen[p.ID], "patient %s seen once", p.ID)
				}
				assert.LessOrEqual(t, seen[p.ID], 1)
			}
		})
	}
}

func TestCursorErrors(t *testing.T) {
	st := newTestState(people())
	page, err := st.list(&Filter{Limit: 2}, dayOf(testNow))
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor)
	assert.Equal(t, 6, page.Total)
	for _, c := range []Filter{
		{Cursor: "!!!"},
		{Cursor: "e30"},                            // {} : no id
		{Cursor: page.NextCursor, Sort: "mrn"},     // another order
		{Cursor: "bm90IGpzb24", Sort: "last_name"}, // not JSON
	} {
		_, err := st.list(&c, dayOf(testNow))
		assert.ErrorIs(t, err, fault.ErrInvalid)
		assert.Contains(t, err.Error(), "cursor")
	}
}

func TestParseFilter(t *testing.T) {
	loc := time.UTC
	f, err := ParseFilter(url.Values{
		"q": {" jonh "}, "status": {"active,inactive", "churned"}, "provider_id": {"pr_1"}, "birthday_within_days": {"30"},
		"created_from": {"2026-01-01"}, "created_to": {"2026-01-31"}, "updated_from": {"2026-01-01T10:00:00Z"},
		"missing": {"phone,email"}, "tag": {"vip"}, "city": {"Boston"}, "age_min": {"18"}, "age_max": {"65"},
		"sort": {"-created_at"}, "limit": {"20"}, "cursor": {"abc"}, "status_changed_from": {"2026-02-01"},
	}, loc)
	require.NoError(t, err)
	assert.Equal(t, "jonh", f.Q)
	assert.Equal(t, []Status{StatusActive, StatusInactive, StatusChurned}, f.Statuses)
	assert.Equal(t, 30, f.BirthdayWithinDays)
	assert.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, loc), f.CreatedFrom)
	assert.Equal(t, time.Date(2026, 2, 1, 0, 0, 0, 0, loc).Add(-time.Nanosecond), f.CreatedTo)
	assert.Equal(t, time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), f.UpdatedFrom)
	assert.Equal(t, []string{"phone", "email"}, f.Missing)
	assert.Equal(t, 18, *f.AgeMin)
	assert.Equal(t, 65, *f.AgeMax)
	assert.Equal(t, 20, f.Limit)

	bad := []struct{ name, param, value string }{
		{"unknown param", "stauts", "active"},
		{"status", "status", "gone"},
		{"limit", "limit", "500"},
		{"limit text", "limit", "ten"},
		{"birthday", "birthday_within_days", "0"},
		{"date", "created_from", "2026-13-01"},
		{"missing", "missing", "dob"},
		{"sort", "sort", "ssn"},
		{"q", "q", "a b c d e f g h i j"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFilter(url.Values{c.param: {c.value}}, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, fault.ErrInvalid)
			var fs fault.Fields
			assert.NotErrorAs(t, err, &fs, "query errors are 400, not 422")
			assert.Contains(t, err.Error(), c.param)
		})
	}
	_, err = ParseFilter(url.Values{"age_min": {"60"}, "age_max": {"20"}}, nil)
	assert.ErrorContains(t, err, "age_min")
}

func TestStateIgnoresStaleAndDeleted(t *testing.T) {
	st := newTestState(people())
	p := st.byID["p_01"].p.clone()
	p.FirstName = "Old"
	assert.False(t, st.upsert(p), "same version is ignored")
	p.Version = 2
	assert.True(t, st.upsert(p))
	assert.Equal(t, "Old", st.byID["p_01"].p.FirstName)
	assert.True(t, st.remove("p_01"))
	assert.False(t, st.remove("p_01"))
	p.Version = 3
	assert.False(t, st.upsert(p), "a deleted patient does not come back from a late change")
	for f := range numViews {
		assert.Len(t, st.views[f], 5)
	}
	assert.Equal(t, "", st.byMRN["MRN-p_01"])
}

func TestDirectoryReplaysChangesSeenDuringReload(t *testing.T) {
	d := newDirectory()
	d.beginReload()
	d.upsert(&Patient{ID: "p_x", MRN: "X", Version: 2, Status: StatusActive})
	d.remove("p_gone")
	st := newTestState([]*Patient{
		{ID: "p_x", MRN: "X", Version: 1, Status: StatusActive},
		{ID: "p_gone", MRN: "G", Version: 1, Status: StatusActive},
	})
	d.endReload(st)
	d.read(func(st *state) {
		assert.Equal(t, 2, st.byID["p_x"].p.Version)
		assert.Nil(t, st.byID["p_gone"])
	})
	d.beginReload()
	d.endReload(nil) // failed reload keeps the state
	d.read(func(st *state) { assert.Len(t, st.byID, 1) })
}
