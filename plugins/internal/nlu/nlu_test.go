package nlu

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/sdk"
)

var today = time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC) // a Wednesday

func d(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWordsAndFold(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Show me ALL Active patients!", "show me all active patients"},
		{"Dr. Chen's patients", "dr chen patients"},
		{"O'Brien", "obrien"},
		{"José Müller-Lüdenscheidt", "jose muller ludenscheidt"},
		{"since 2025-03-01, or 3/14/2025", "since 2025-03-01 or 3/14/2025"},
		{"aged 40-60", "aged 40-60"},
		{"  ", ""},
	} {
		assert.Equal(t, tc.want, strings.Join(Words(tc.in), " "), tc.in)
	}
	assert.Equal(t, []string{"strasse"}, Words("Straße"))
}

func TestParseCorrectsTypos(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"actve pateints", "active patients"},
		{"Upcoming Bithdays", "upcoming birthdays"},
		{"chruned", "churned"},
		{"inactve", "inactive"},
		{"smtih", "smtih"}, // not a keyword: left alone
		{"lust", "lust"},   // as close to last, list and lost: ambiguous, left alone
		{"cat", "cat"},     // short words are never corrected
	} {
		assert.Equal(t, tc.want, Parse(tc.in).Text(), tc.in)
	}
	m := Parse("show me the churned ones")
	assert.True(t, m.Has("churned"))
	assert.True(t, m.HasPhrase("the churned"))
	assert.False(t, m.HasPhrase(""))
	assert.Equal(t, -1, m.Index("nope here"))
	assert.True(t, m.AnyPhrase("x", "show me"))
	assert.False(t, m.AnyPhrase("x"))
	assert.Equal(t, 5, m.Len())
	assert.Equal(t, "churned ones", m.Phrase(3, 99))
	assert.Equal(t, "", m.Phrase(-1, 0))
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		in    string
		value int
		n     int
	}{
		{"30 days", 30, 1}, {"thirty five", 35, 2}, {"twenty", 20, 1}, {"a hundred", 100, 2}, {"two hundred", 200, 2},
		{"a dozen", 12, 2}, {"a couple of", 2, 3}, {"couple of", 2, 2}, {"5th", 5, 1}, {"hundred", 100, 1},
		{"a few", 3, 2}, {"a", 0, 0}, {"an apple", 0, 0}, {"seven", 7, 1}, {"fortnight", 14, 1}, {"pear", 0, 0},
	} {
		v, n := NumberAt(strings.Fields(tc.in), 0)
		assert.Equal(t, tc.value, v, tc.in)
		assert.Equal(t, tc.n, n, tc.in)
	}
	v, n := NumberAt(nil, 0)
	assert.Zero(t, v+n)
}

func TestStatuses(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"current patients", []string{Active}},
		{"who left or who we lost", []string{Churned}},
		{"pending and dormant", []string{Onboarding, Inactive}},
		{"patients that are not active", []string{Onboarding, Inactive, Churned}},
		{"no longer active", []string{Churned}},
		{"not yet active", []string{Onboarding}},
		{"in onboarding", []string{Onboarding}},
		{"inactive or churned", []string{Inactive, Churned}},
		{"everyone", nil},
		{"everyone except churned", []string{Onboarding, Active, Inactive}},
		{"non-active patients", []string{Onboarding, Inactive, Churned}},
		{"excluding churned and inactive", []string{Onboarding, Active}},
		{"neither active nor churned", []string{Onboarding, Inactive}},
		{"all but the inactive ones", []string{Onboarding, Active, Churned}},
		{"patients not in onboarding", []string{Active, Inactive, Churned}},
		{"patients who aren't churned", []string{Onboarding, Active, Inactive}},
		{"active, not churned", []string{Active}},
		{"moved from active to inactive", []string{Active, Inactive}},
		{"churnd patients", []string{Churned}},
	} {
		assert.Equal(t, tc.want, StatusesWithNegation(Parse(tc.in), nil), tc.in)
	}
	assert.Len(t, Statuses(), 4)
}

func TestDates(t *testing.T) {
	for _, tc := range []struct {
		in       string
		from, to string
		days     int
		dir      Direction
	}{
		{"this month", "2026-03-01", "2026-03-31", 0, Past},
		{"last month", "2026-02-01", "2026-02-28", 0, Past},
		{"this week", "2026-03-16", "2026-03-22", 0, Past},
		{"last week", "2026-03-09", "2026-03-15", 0, Past},
		{"next week", "2026-03-23", "2026-03-29", 0, Future},
		{"last 2 weeks", "2026-03-04", "2026-03-18", 0, Past},
		{"in the last two weeks", "2026-03-04", "2026-03-18", 0, Past},
		{"past 30 days", "2026-02-16", "2026-03-18", 0, Past},
		{"the past week", "2026-03-11", "2026-03-18", 0, Past},
		{"next 30 days", "2026-03-18", "2026-04-17", 30, Future},
		{"in the next 2 weeks", "2026-03-18", "2026-04-01", 14, Future},
		{"upcoming", "2026-03-18", "2026-04-16", 30, Future},
		{"coming up soon", "2026-03-18", "2026-04-16", 30, Future},
		{"since March", "2026-03-01", "2026-03-18", 0, Past},
		{"since last month", "2026-02-01", "2026-03-18", 0, Past},
		{"since 2024", "2024-01-01", "2026-03-18", 0, Past},
		{"in 2025", "2025-01-01", "2025-12-31", 0, Past},
		{"in December", "2025-12-01", "2025-12-31", 0, Past},
		{"in march 2024", "2024-03-01", "2024-03-31", 0, Past},
		{"during may", "2025-05-01", "2025-05-31", 0, Past},
		{"last quarter", "2025-10-01", "2025-12-31", 0, Past},
		{"this year", "2026-01-01", "2026-12-31", 0, Past},
		{"yesterday", "2026-03-17", "2026-03-17", 0, Past},
		{"today", "2026-03-18", "2026-03-18", 0, Past},
		{"tomorrow", "2026-03-19", "2026-03-19", 0, Future},
		{"between 2025-01-01 and 2025-06-30", "2025-01-01", "2025-06-30", 0, Past},
		{"from january to march", "2026-01-01", "2026-03-31", 0, Past},
		{"from 2025-02-03", "2025-02-03", "2026-03-18", 0, Past},
		{"before 2025", "", "2024-12-31", 0, Past},
		{"after 2025-06-30", "2025-07-01", "", 0, Past},
		{"until march 5", "", "2026-03-04", 0, Past},
		{"3 days ago", "2026-03-15", "2026-03-15", 0, Past},
		{"on 3/14/2025", "2025-03-14", "2025-03-14", 0, Past},
		{"within 30 days", "2026-02-16", "2026-03-18", 30, Unknown},
		{"last april", "2025-04-01", "2025-04-30", 0, Past},
		{"next june", "2026-06-01", "2026-06-30", 0, Future},
		{"the coming week", "2026-03-18", "2026-03-25", 7, Future},
	} {
		e, ok := FindDate(Parse(tc.in), today, nil)
		require.True(t, ok, tc.in)
		if tc.from == "" {
			assert.True(t, e.From.IsZero(), tc.in)
		} else {
			assert.Equal(t, d(tc.from), e.From, tc.in)
		}
		if tc.to == "" {
			assert.True(t, e.To.IsZero(), tc.in)
		} else {
			assert.Equal(t, d(tc.to), e.To, tc.in)
		}
		if tc.days > 0 {
			assert.Equal(t, tc.days, e.Days, tc.in)
		}
		assert.Equal(t, tc.dir, e.Dir, tc.in)
	}
	for _, s := range []string{"may I see patients", "the patients", "last of them", "in their 30s"} {
		_, ok := FindDate(Parse(s), today, nil)
		assert.False(t, ok, s)
	}
}

var vocab = Vocabularies{
	Providers: NewVocabulary([]Term{{"p1", "Dr. Olivia Chen"}, {"p2", "Dr. Maya Patel"}, {"p3", "Dr. Liam O'Connor"}, {"p4", "Dr. Ann Chen"}}),
	Cities:    NewVocabulary([]Term{{"Boston", "Boston"}, {"San Diego", "San Diego"}, {"New York", "New York"}, {"Seattle", "Seattle"}}),
}

func TestExtract(t *testing.T) {
	ip := func(v int) *int { return &v }
	for _, tc := range []struct {
		in   string
		want Query
	}{
		{"active patients in sprngfield", Query{Statuses: []string{Active}, CityPhrase: "sprngfield"}},
		{"current patients in San Deigo aged 30 to 40", Query{Statuses: []string{Active}, AgeMin: ip(30), AgeMax: ip(40)}},
		{"patients over 65", Query{AgeMin: ip(66)}},
		{"older than eighty", Query{AgeMin: ip(81)}},
		{"younger than 18", Query{AgeMax: ip(17)}},
		{"aged 65 and over", Query{AgeMin: ip(65)}},
		{"aged 40", Query{AgeMin: ip(40), AgeMax: ip(40)}},
		{"aged 40-60", Query{AgeMin: ip(40), AgeMax: ip(60)}},
		{"18 or younger", Query{AgeMax: ip(18)}},
		{"65 years old or older", Query{AgeMin: ip(65)}},
		{"30 years old", Query{AgeMin: ip(30), AgeMax: ip(30)}},
		{"at least 50 years old", Query{AgeMin: ip(50)}},
		{"in their thirties", Query{AgeMin: ip(30), AgeMax: ip(39)}},
		{"seniors", Query{AgeMin: ip(65)}},
		{"teens", Query{AgeMin: ip(13), AgeMax: ip(19)}},
		{"adults", Query{AgeMin: ip(18)}},
		{"kids", Query{AgeMax: ip(17)}},
		{"no phone and no email", Query{Missing: []string{"phone", "email"}}},
		{"missing an email address", Query{Missing: []string{"email"}}},
		{"uninsured and unassigned", Query{Missing: []string{"insurance", "provider"}}},
		{"without a doctor", Query{Missing: []string{"provider"}}},
		{"top 5 newest", Query{Limit: 5, Sort: "-created_at"}},
		{"3 oldest records", Query{Limit: 3, Sort: "created_at"}},
		{"10 youngest active", Query{Statuses: []string{Active}, Limit: 10, Sort: "-date_of_birth"}},
		{"first 10 added", Query{Limit: 10, Sort: "created_at"}},
		{"recently updated", Query{Sort: "-updated_at"}},
		{"last updated", Query{Sort: "-updated_at"}},
		{"earliest", Query{Sort: "created_at"}},
		{"alphabetically", Query{Sort: "last_name"}},
		{"sorted by first name", Query{Sort: "first_name"}},
		{"sort by age", Query{Sort: "-date_of_birth"}},
		{"order by status", Query{Sort: "status"}},
		{"sorted by mrn", Query{Sort: "mrn"}},
		{"by last name", Query{Sort: "last_name"}},
		{"show 10 active patients", Query{Statuses: []string{Active}, Limit: 10}},
		{"find jonh smtih", Query{Name: "jonh smtih"}},
		{"patients named Hannah", Query{Name: "hannah"}},
		{"look up DEMO-000123", Query{Name: "DEMO-000123"}},
		{"mrn 001234", Query{Name: "001234"}},
		{"smith's chart", Query{Name: "smith"}},
		// Any status verb is a name cue when a status is named.
		{"set Christopher Martinez to inactive", Query{Statuses: []string{Inactive}, Name: "christopher martinez"}},
		{"change Christopher Martinez to inactive", Query{Statuses: []string{Inactive}, Name: "christopher martinez"}},
		{"switch Christopher Martinez to active", Query{Statuses: []string{Active}, Name: "christopher martinez"}},
		{"make Christopher Martinez inactive", Query{Statuses: []string{Inactive}, Name: "christopher martinez"}},
		{"change Christopher Martinez's status to inactive", Query{Statuses: []string{Inactive}, Name: "christopher martinez"}},
		{"change the status of Christopher Martinez to churned", Query{Statuses: []string{Churned}, Name: "christopher martinez"}},
		{"change the status to inactive", Query{Statuses: []string{Inactive}}},
		{"make a list of inactive patients", Query{Statuses: []string{Inactive}}},
		{"change my password", Query{}},
		{"patients of dr zzyzx", Query{ProviderPhrase: "zzyzx"}},
		{"new patients", Query{New: true, Statuses: []string{Onboarding}}},
	} {
		q := Extract(Parse(tc.in), today, Vocabularies{})
		assert.Equal(t, tc.want.Statuses, q.Statuses, tc.in)
		assert.Equal(t, tc.want.AgeMin, q.AgeMin, tc.in)
		assert.Equal(t, tc.want.AgeMax, q.AgeMax, tc.in)
		assert.Equal(t, tc.want.Missing, q.Missing, tc.in)
		assert.Equal(t, tc.want.Limit, q.Limit, tc.in)
		assert.Equal(t, tc.want.Sort, q.Sort, tc.in)
		assert.Equal(t, tc.want.Name, q.Name, tc.in)
		assert.Equal(t, tc.want.ProviderPhrase, q.ProviderPhrase, tc.in)
		assert.Equal(t, tc.want.New, q.New, tc.in)
	}
}

func TestExtractWithVocabularies(t *testing.T) {
	for _, tc := range []struct{ in, provider, city string }{
		{"patients of dr chen in boston", "p1", "Boston"},
		{"Dr Patel's patients from seatle", "p2", "Seattle"},
		{"patients of dr o'connor", "p3", ""},
		{"active pts of Dr. Maya Patl", "p2", ""},
		{"patients living in san deigo", "", "San Diego"},
		{"patients in New York", "", "New York"},
		{"boston", "", ""}, // no place cue
	} {
		q := Extract(Parse(tc.in), today, vocab)
		if tc.provider != "" {
			require.NotNil(t, q.Provider, tc.in)
			assert.Equal(t, tc.provider, q.Provider.Term.ID, tc.in)
		} else {
			assert.Nil(t, q.Provider, tc.in)
		}
		if tc.city != "" {
			require.NotNil(t, q.City, tc.in)
			assert.Equal(t, tc.city, q.City.Term.ID, tc.in)
		} else {
			assert.Nil(t, q.City, tc.in)
		}
		assert.False(t, q.New, tc.in)
	}
	// Two Chens: ambiguous.
	m, ok := vocab.Providers.Lookup("chen")
	require.True(t, ok)
	assert.True(t, m.Ambiguous)
	m, ok = vocab.Providers.Lookup("Olivia Chen")
	require.True(t, ok)
	assert.False(t, m.Ambiguous)
	assert.Equal(t, "p1", m.Term.ID)
	_, ok = vocab.Providers.Lookup("dr")
	assert.False(t, ok)
	var nilv *Vocabulary
	assert.Equal(t, 0, nilv.Len())
	_, ok = nilv.Find(Parse("x"), nil, nil)
	assert.False(t, ok)
}

func TestExtractDateFields(t *testing.T) {
	for _, tc := range []struct{ in, field string }{
		{"how many churned this month", FieldStatusChanged},
		{"patients who became active this week", FieldStatusChanged},
		{"updated yesterday", FieldUpdated},
		{"added last week", FieldCreated},
		{"new patients this month", FieldCreated},
		{"active patients this year", FieldCreated},
	} {
		q := Extract(Parse(tc.in), today, Vocabularies{})
		require.NotNil(t, q.Date, tc.in)
		assert.Equal(t, tc.field, q.DateField, tc.in)
		assert.False(t, q.New, tc.in)
	}
	for _, tc := range []struct {
		in   string
		days int
	}{
		{"upcoming birthdays", 30}, {"birthdays in the next 2 weeks", 14}, {"birthdays today", 1},
		{"birthdays this week", 5}, {"birthdays next 400 days", 366},
	} {
		q := Extract(Parse(tc.in), today, Vocabularies{})
		assert.Equal(t, tc.days, q.BirthdayDays, tc.in)
		assert.Nil(t, q.Date, tc.in)
		assert.Equal(t, "birthday", q.Sort, tc.in)
	}
	q := Extract(Parse("patients"), today, Vocabularies{})
	assert.True(t, q.Empty())
	assert.Zero(t, q.Filters())
	q = Extract(Parse("active patients in boston over 60 without insurance"), today, vocab)
	assert.False(t, q.Empty())
	assert.Equal(t, 4, q.Filters())
}

func TestHostContext(t *testing.T) {
	h := sdk.HostContextFrom(map[string]any{sdk.HostContextKey: map[string]any{"today": "2026-03-18", "providers": []map[string]string{{"id": "p1", "name": "Dr. Olivia Chen"}}, "cities": []string{"Boston"}, "role": "staff"}})
	assert.Equal(t, today, Today(h, time.Now))
	assert.Equal(t, "staff", h.Role)
	v := VocabulariesOf(h)
	assert.Equal(t, 1, v.Providers.Len())
	assert.Equal(t, 1, v.Cities.Len())
	empty := sdk.HostContextFrom(nil)
	fixed := time.Date(2030, 1, 2, 15, 0, 0, 0, time.UTC)
	assert.Equal(t, Day(fixed), Today(empty, func() time.Time { return fixed }))
	assert.Equal(t, sdk.HostContext{}, sdk.HostContextFrom(map[string]any{sdk.HostContextKey: func() {}}))
}

// FuzzExtract: any message is understood without panicking, and what is
// extracted stays in range.
func FuzzExtract(f *testing.F) {
	for _, s := range []string{"show me all active patients", "birthdays in the next 2 weeks", "top 5 newest patients in boston over 60",
		"patients aged 40-60 without insurance since march", "find DEMO-000123", "a a a", "between and", "9999999999999999999 days",
		"over 200", "in their 120s", "sort by", "'s 's", "-1/-1/-1", "jan 32 2025", "Ünïcödé ñame"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Extract(Parse(s), today, vocab)
		if q.BirthdayDays != 0 && (q.BirthdayDays < 1 || q.BirthdayDays > 366) {
			t.Fatalf("birthday window %d", q.BirthdayDays)
		}
		if q.Limit < 0 || q.Limit > 200 {
			t.Fatalf("limit %d", q.Limit)
		}
		for _, st := range q.Statuses {
			if !containsStr(Statuses(), st) {
				t.Fatalf("status %q", st)
			}
		}
	})
}
