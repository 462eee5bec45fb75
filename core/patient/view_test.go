package patient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// viewState is a directory of n generated patients after a round of
// status changes, renames and deletions (so the per-status views have
// been maintained by upsert and drop, not only built by bulkLoad).
func viewState(t *testing.T, n int) *state {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	firsts := []string{"Ann", "Bob", "Cara", "Dan", "Eve", "Finn", "Gus"}
	lasts := []string{"Adams", "Baker", "Clark", "Davis", "Evans", "Ford"}
	var ps []*Patient
	for i := range n {
		p := &Patient{ID: fmt.Sprintf("p_%04d", i), MRN: fmt.Sprintf("M%04d", i), FirstName: firsts[rng.IntN(len(firsts))],
			LastName: lasts[rng.IntN(len(lasts))], DateOfBirth: fmt.Sprintf("19%02d-%02d-%02d", 40+rng.IntN(60), 1+rng.IntN(12), 1+rng.IntN(28)),
			Status: Statuses()[rng.IntN(4)], ProviderID: []string{"", "pr_a", "pr_b"}[rng.IntN(3)], Version: 1, CreatedAt: testNow, UpdatedAt: testNow, StatusChangedAt: testNow}
		p.normalize()
		ps = append(ps, p)
	}
	st := newTestState(ps)
	for i := 0; i < n; i += 5 {
		c := ps[i].clone()
		c.Version++
		c.Status = Statuses()[(i/5)%4]
		if i%10 == 0 {
			c.LastName = "Zed"
			c.ProviderID = "pr_c"
		}
		require.True(t, st.upsert(c))
	}
	for i := 3; i < n; i += 17 {
		require.True(t, st.remove(ps[i].ID))
	}
	return st
}

// pageAll follows the cursors of f to the end, limit rows a page.
func pageAll(t *testing.T, st *state, f Filter, limit int) (got []string, total int) {
	t.Helper()
	f.Limit = limit
	for range 1000 {
		pg, err := st.list(&f, dayOf(testNow))
		require.NoError(t, err)
		got = append(got, ids(pg)...)
		total = pg.Total
		if pg.NextCursor == "" {
			return got, total
		}
		f.Cursor = pg.NextCursor
	}
	t.Fatal("cursor never ended")
	return nil, 0
}

// TestListViewsMatchAFullScan: the list's short cuts (a whole view
// counted without visiting it, a status's own view) page and count
// exactly like a scan of every patient, in both directions.
func TestListViewsMatchAFullScan(t *testing.T) {
	st := viewState(t, 300)
	want := func(sts []Status, provider, sort string) []string {
		desc := strings.HasPrefix(sort, "-")
		field := sortNames[strings.TrimPrefix(sort, "-")]
		var es []*entry
		for _, e := range st.byID {
			if (len(sts) == 0 || slices.Contains(sts, e.p.Status)) && (provider == "" || e.p.ProviderID == provider) {
				es = append(es, e)
			}
		}
		slices.SortFunc(es, func(a, b *entry) int { return staticKey(a, field).compare(staticKey(b, field)) })
		if desc {
			slices.Reverse(es)
		}
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e.p.ID
		}
		return out
	}
	cases := []struct {
		name     string
		sts      []Status
		provider string
		sort     string
	}{
		{"everybody by last name", nil, "", "last_name"},
		{"everybody by last name, descending", nil, "", "-last_name"},
		{"everybody by MRN", nil, "", "mrn"},
		{"everybody by created, descending", nil, "", "-created_at"},
		{"active by last name", []Status{StatusActive}, "", "last_name"},
		{"churned by last name, descending", []Status{StatusChurned}, "", "-last_name"},
		{"onboarding by date of birth", []Status{StatusOnboarding}, "", "date_of_birth"},
		{"two statuses by last name", []Status{StatusActive, StatusInactive}, "", "last_name"},
		{"a panel by last name", nil, "pr_c", "last_name"},
		{"a panel's active patients, descending", []Status{StatusActive}, "pr_a", "-last_name"},
		{"a panel's inactive patients by MRN", []Status{StatusInactive}, "pr_b", "mrn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp := want(c.sts, c.provider, c.sort)
			require.NotEmpty(t, exp)
			for _, limit := range []int{1, 7, 50, 200} {
				got, total := pageAll(t, st, Filter{Statuses: c.sts, ProviderID: c.provider, Sort: c.sort}, limit)
				assert.Equal(t, exp, got, "limit %d", limit)
				assert.Equal(t, len(exp), total, "limit %d", limit)
			}
		})
	}
}

// TestStatusViewInComputedOrders: one status in a computed order (a
// search, birthdays) walks the status's view and answers what the same
// status given twice (the general scan) answers.
func TestStatusViewInComputedOrders(t *testing.T) {
	st := viewState(t, 300)
	for _, f := range []Filter{
		{Statuses: []Status{StatusActive}, Q: "ann"},
		{Statuses: []Status{StatusInactive}, Q: "Clrak"},
		{Statuses: []Status{StatusOnboarding}, Sort: "birthday"},
		{Statuses: []Status{StatusChurned}, Sort: "-birthday"},
		{Statuses: []Status{StatusInactive}, ProviderID: "pr_c", Q: "zed"},
		{Statuses: []Status{StatusOnboarding}, ProviderID: "pr_a", Sort: "birthday"},
	} {
		t.Run(fmt.Sprintf("%v %q %q", f.Statuses, f.Q, f.Sort), func(t *testing.T) {
			twice := f
			twice.Statuses = []Status{f.Statuses[0], f.Statuses[0]}
			want, wantTotal := pageAll(t, st, twice, 9)
			got, total := pageAll(t, st, f, 9)
			require.NotEmpty(t, want)
			assert.Equal(t, want, got)
			assert.Equal(t, wantTotal, total)
		})
	}
}

// TestPageWriteJSONIsTheJSONOfThePage: the list's bytes (records
// encoded once per version in the directory) are exactly what
// encoding/json makes of the page, cached or not.
func TestPageWriteJSONIsTheJSONOfThePage(t *testing.T) {
	st := newTestState(people())
	for _, f := range []Filter{{Limit: 2}, {}, {Statuses: []Status{StatusChurned}}, {Q: "nobody-at-all"}} {
		for range 2 { // the second time from the cache
			pg, err := st.list(&f, dayOf(testNow))
			require.NoError(t, err)
			want, err := json.Marshal(pg)
			require.NoError(t, err)
			var got bytes.Buffer
			require.NoError(t, pg.WriteJSON(&got))
			assert.Equal(t, string(want), got.String())
			bare := Page{Items: pg.Items, Total: pg.Total, NextCursor: pg.NextCursor} // no cached bytes
			got.Reset()
			require.NoError(t, bare.WriteJSON(&got))
			assert.Equal(t, string(want), got.String())
		}
	}
	pg, err := st.list(&Filter{}, dayOf(testNow))
	require.NoError(t, err)
	assert.ErrorContains(t, pg.WriteJSON(failingWriter{}), "write patient page: disk full", "a writer's error is returned")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestSearchByEmailFollowsChanges: a word is looked for in e-mails only
// when some e-mail contains it, and that knowledge follows every change.
func TestSearchByEmailFollowsChanges(t *testing.T) {
	st := newTestState(people())
	search := func(q string) []string {
		pg, err := st.list(&Filter{Q: q, Sort: "mrn"}, dayOf(testNow))
		require.NoError(t, err)
		return ids(pg)
	}
	assert.Equal(t, []string{"p_01", "p_02", "p_03", "p_04", "p_06"}, search("example.org"))
	assert.Empty(t, search("other.net"))

	p := people()[0].clone()
	p.Version, p.Email = 2, "zz@other.net"
	require.True(t, st.upsert(p))
	assert.Equal(t, []string{"p_01"}, search("other.net"))
	assert.Equal(t, []string{"p_01"}, search("zz@other.net"))
	assert.Equal(t, []string{"p_02", "p_03", "p_04", "p_06"}, search("example.org"))
	assert.Equal(t, []string{"p_01"}, search("Jonh Smtih"), "a typo still finds the name")

	require.True(t, st.remove(p.ID))
	assert.Empty(t, search("other.net"))

	n := people()[1].clone()
	n.ID, n.MRN, n.Email = "p_07", "MRN-p_07", "new@fresh.io"
	require.True(t, st.upsert(n))
	assert.Equal(t, []string{"p_07"}, search("fresh.io"), "a new patient's e-mail is searched")
}
