package chat_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/patient"
)

var evalVerbose = flag.Bool("eval", false, "print the evaluation report (make eval-chat)")

// evalCase is one labelled utterance of testdata/chat/eval.jsonl.
type evalCase struct {
	ID      string      `json:"id"`
	Message string      `json:"message"`
	Page    string      `json:"page,omitempty"`
	Role    string      `json:"role,omitempty"` // default staff
	Intent  string      `json:"intent"`
	Expect  *evalExpect `json:"expect,omitempty"`
	Note    string      `json:"note,omitempty"`
	// Split is "" for the development set (written first, tuned against),
	// "holdout" (written after the first tuning) or "unseen" (written
	// before the second, for negation, misspellings, lookups and
	// follow-ups); each is reported separately.
	Split string `json:"split,omitempty"`
	// After is a message asked first in the same conversation: the case
	// is a follow-up to it.
	After string `json:"after,omitempty"`
}

// evalExpect describes the expected patient set in plain terms; the
// harness computes it with its own straightforward filter (below), never
// with the code under test.
type evalExpect struct {
	Status       []string `json:"status,omitempty"`
	Provider     string   `json:"provider,omitempty"` // provider name as seeded
	City         string   `json:"city,omitempty"`
	AgeMin       *int     `json:"age_min,omitempty"`
	AgeMax       *int     `json:"age_max,omitempty"`
	BirthdayDays int      `json:"birthday_days,omitempty"`
	CreatedFrom  string   `json:"created_from,omitempty"`
	CreatedTo    string   `json:"created_to,omitempty"`
	UpdatedFrom  string   `json:"updated_from,omitempty"`
	UpdatedTo    string   `json:"updated_to,omitempty"`
	ChangedFrom  string   `json:"status_changed_from,omitempty"`
	ChangedTo    string   `json:"status_changed_to,omitempty"`
	Missing      []string `json:"missing,omitempty"`
	Name         string   `json:"name,omitempty"` // every word equals a name word (typo-free spelling)
	MRN          string   `json:"mrn,omitempty"`
	Sort         string   `json:"sort,omitempty"` // newest | oldest_records | oldest | youngest
	Top          int      `json:"top,omitempty"`
	Contains     bool     `json:"contains,omitempty"` // name searches: expected ⊆ answer (fuzzy search may add near names)
}

func loadEval(t testing.TB) []evalCase {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "chat", "eval.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var out []evalCase
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "//") {
			continue
		}
		var c evalCase
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&c), "eval.jsonl line %d", line)
		out = append(out, c)
	}
	require.NoError(t, sc.Err())
	return out
}

// allPatients pages through the whole directory (no filter).
func allPatients(t testing.TB, ps *patient.Service) []*patient.Patient {
	var out []*patient.Patient
	f := patient.Filter{Limit: patient.MaxLimit, Sort: "mrn"}
	for {
		page, err := ps.List(system(context.Background()), f)
		require.NoError(t, err)
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

func foldWord(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if r < 0x300 || r > 0x36f {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// expected computes the expected ids with a plain loop.
func expected(t testing.TB, x *evalExpect, all []*patient.Patient, providers map[string]string, today time.Time) []string {
	day := func(s string, end bool) time.Time {
		if s == "" {
			return time.Time{}
		}
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		if end {
			return d.AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
		return d
	}
	within := func(ts time.Time, from, to string) bool {
		f, e := day(from, false), day(to, true)
		return (f.IsZero() || !ts.Before(f)) && (e.IsZero() || !ts.After(e))
	}
	var keep []*patient.Patient
	for _, p := range all {
		if len(x.Status) > 0 && !slices.Contains(x.Status, string(p.Status)) {
			continue
		}
		if x.Provider != "" {
			id, ok := providers[x.Provider]
			require.True(t, ok, "unknown provider %q in eval", x.Provider)
			if p.ProviderID != id {
				continue
			}
		}
		if x.City != "" && !strings.EqualFold(p.Address.City, x.City) {
			continue
		}
		if x.AgeMin != nil || x.AgeMax != nil || x.BirthdayDays > 0 {
			dob, err := time.Parse(time.DateOnly, p.DateOfBirth)
			if err != nil {
				continue
			}
			age := today.Year() - dob.Year()
			bday := birthdayIn(today.Year(), dob)
			if today.Before(bday) {
				age--
			}
			if x.AgeMin != nil && age < *x.AgeMin || x.AgeMax != nil && age > *x.AgeMax {
				continue
			}
			if x.BirthdayDays > 0 {
				next := bday
				if next.Before(today) {
					next = birthdayIn(today.Year()+1, dob)
				}
				if int(next.Sub(today).Hours()/24) >= x.BirthdayDays {
					continue
				}
			}
		}
		if !within(p.CreatedAt, x.CreatedFrom, x.CreatedTo) || !within(p.UpdatedAt, x.UpdatedFrom, x.UpdatedTo) || !within(p.StatusChangedAt, x.ChangedFrom, x.ChangedTo) {
			continue
		}
		miss := false
		for _, m := range x.Missing {
			switch m {
			case "phone":
				miss = miss || p.Phone != ""
			case "email":
				miss = miss || p.Email != ""
			case "insurance":
				miss = miss || p.Insurance.Payer != "" || p.Insurance.MemberID != ""
			case "provider":
				miss = miss || p.ProviderID != ""
			case "address":
				miss = miss || p.Address.Line1 != "" || p.Address.City != "" || p.Address.PostalCode != ""
			}
		}
		if miss {
			continue
		}
		if x.MRN != "" && !strings.EqualFold(p.MRN, x.MRN) {
			continue
		}
		if x.Name != "" {
			names := map[string]bool{}
			for _, n := range []string{p.FirstName, p.LastName} {
				for _, w := range strings.Fields(foldWord(n)) {
					names[w] = true
				}
			}
			ok := true
			for _, w := range strings.Fields(foldWord(x.Name)) {
				ok = ok && names[w]
			}
			if !ok {
				continue
			}
		}
		keep = append(keep, p)
	}
	if x.Sort != "" {
		less := map[string]func(a, b *patient.Patient) bool{
			"newest":         func(a, b *patient.Patient) bool { return a.CreatedAt.After(b.CreatedAt) },
			"oldest_records": func(a, b *patient.Patient) bool { return a.CreatedAt.Before(b.CreatedAt) },
			"oldest":         func(a, b *patient.Patient) bool { return a.DateOfBirth < b.DateOfBirth },
			"youngest":       func(a, b *patient.Patient) bool { return a.DateOfBirth > b.DateOfBirth },
			"updated":        func(a, b *patient.Patient) bool { return a.UpdatedAt.After(b.UpdatedAt) },
		}[x.Sort]
		require.NotNil(t, less, "unknown sort %q", x.Sort)
		sort.SliceStable(keep, func(i, j int) bool { return less(keep[i], keep[j]) })
	}
	if x.Top > 0 && len(keep) > x.Top {
		keep = keep[:x.Top]
	}
	ids := make([]string, len(keep))
	for i, p := range keep {
		ids[i] = p.ID
	}
	sort.Strings(ids)
	return ids
}

func birthdayIn(y int, dob time.Time) time.Time {
	m, d := dob.Month(), dob.Day()
	if m == 2 && d == 29 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		d = 28
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// answered returns every id the reply's query selects (all pages) and
// checks data.total and data.patients against it.
func answered(ctx context.Context, t testing.TB, ps *patient.Service, r chat.Reply) ([]string, string) {
	q, _ := r.Data["query"].(string)
	vals, err := url.ParseQuery(q)
	require.NoError(t, err)
	top := vals.Get("limit")
	vals.Del("limit")
	f, err := patient.ParseFilter(vals, time.UTC)
	if err != nil {
		return nil, "bad query: " + err.Error()
	}
	var ids []string
	if top != "" {
		var n int
		fmt.Sscan(top, &n)
		f.Limit = n
		page, err := ps.List(ctx, f)
		require.NoError(t, err)
		for _, p := range page.Items {
			ids = append(ids, p.ID)
		}
	} else {
		f.Limit = patient.MaxLimit
		for {
			page, err := ps.List(ctx, f)
			require.NoError(t, err)
			for _, p := range page.Items {
				ids = append(ids, p.ID)
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
	}
	sort.Strings(ids)
	problem := ""
	if tot, ok := r.Data["total"].(int); !ok || tot != len(ids) {
		problem = fmt.Sprintf("data.total %v but the query selects %d", r.Data["total"], len(ids))
	}
	return ids, problem
}

// offered returns the ids of the patients a reply's set_status offer
// would move (sorted), or nil when there is no offer.
func offered(r chat.Reply) []string {
	var ids []string
	for _, a := range r.Actions {
		if a.Type != chat.ActionSetStatus || a.ID == "" {
			continue
		}
		pats, _ := a.Params["patients"].([]map[string]any)
		for _, p := range pats {
			ref, _ := p["ref"].(string)
			ids = append(ids, strings.TrimPrefix(ref, "patient:"))
		}
	}
	sort.Strings(ids)
	return ids
}

type evalResult struct {
	c      evalCase
	got    string
	ok     bool
	reason string
}

// TestEval runs the labelled evaluation set through the chat service
// (in-process plugins, real database, 500 seeded patients) and reports
// exact accuracy per intent. Run with -eval (make eval-chat) to print the
// report; it is measured, not asserted.
func TestEval(t *testing.T) {
	cases := loadEval(t)
	require.GreaterOrEqual(t, len(cases), 1)
	e := newEnv(t, 500)
	all := allPatients(t, e.patients)
	provs, err := e.patients.ListProviders(system(context.Background()))
	require.NoError(t, err)
	byName := map[string]string{}
	for _, p := range provs {
		byName[p.Name] = p.ID
	}
	today := time.Date(evalNow.Year(), evalNow.Month(), evalNow.Day(), 0, 0, 0, 0, time.UTC)
	var results []evalResult
	for _, c := range cases {
		role := actor.Role(c.Role)
		if role == "" {
			role = actor.RoleStaff
		}
		ctx := as(role)
		pc := chat.PageContext{Page: c.Page}
		if id, ok := strings.CutPrefix(c.Page, "/patients/p_"); ok {
			pc.PatientID = "p_" + id // the panel sends the record id of the page
		}
		session := "eval-" + c.ID
		if c.After != "" {
			_, err := e.chat.Ask(ctx, chat.Request{Message: c.After, Context: pc, Session: session})
			require.NoError(t, err, c.ID)
		}
		r, err := e.chat.Ask(ctx, chat.Request{Message: c.Message, Context: pc, Session: session})
		res := evalResult{c: c, got: r.Intent}
		switch {
		case err != nil:
			res.reason = "error: " + err.Error()
		case r.Intent != c.Intent:
			res.reason = fmt.Sprintf("intent %q, want %q (reply: %s)", r.Intent, c.Intent, r.Reply)
		case c.Expect != nil && c.Intent == "patients.set_status":
			// A status change by name: the offer moves exactly the patients expected.
			want := expected(t, c.Expect, all, byName, today)
			if got := offered(r); len(want) == 0 || !slices.Equal(got, want) {
				res.reason = fmt.Sprintf("offer for %d patients, want %d (reply: %s)", len(got), len(want), r.Reply)
			}
		case c.Expect != nil:
			want := expected(t, c.Expect, all, byName, today)
			got, problem := answered(ctx, t, e.patients, r)
			switch {
			case c.Expect.Contains:
				missing := 0
				for _, id := range want {
					if !slices.Contains(got, id) {
						missing++
					}
				}
				if missing > 0 || len(want) == 0 {
					res.reason = fmt.Sprintf("%d of %d expected patients missing (query %v)", missing, len(want), r.Data["query"])
				}
			case !slices.Equal(got, want):
				res.reason = fmt.Sprintf("got %d patients, want %d (query %v)", len(got), len(want), r.Data["query"])
			case problem != "":
				res.reason = problem
			}
		}
		res.ok = res.reason == ""
		results = append(results, res)
	}
	report(t, results)
}

func report(t *testing.T, results []evalResult) {
	type tally struct{ ok, n int }
	per := map[string]*tally{}
	total := tally{}
	splits := map[string]*tally{}
	var misses []string
	for _, r := range results {
		k := r.c.Intent
		if per[k] == nil {
			per[k] = &tally{}
		}
		per[k].n++
		total.n++
		split := splits[r.c.Split]
		if split == nil {
			split = &tally{}
			splits[r.c.Split] = split
		}
		split.n++
		if r.ok {
			per[k].ok++
			total.ok++
			split.ok++
		} else {
			misses = append(misses, fmt.Sprintf("  %-14s %-55q %s", r.c.ID, r.c.Message, r.reason))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "chat evaluation: %d utterances\n", total.n)
	keys := make([]string, 0, len(per))
	for k := range per {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-24s %3d/%-3d %6.1f%%\n", k, per[k].ok, per[k].n, 100*float64(per[k].ok)/float64(per[k].n))
	}
	fmt.Fprintf(&b, "  %-24s %3d/%-3d %6.1f%% exact (target >= 95%%)\n", "OVERALL", total.ok, total.n, 100*float64(total.ok)/float64(total.n))
	for _, sp := range []struct{ key, name, note string }{
		{"", "development split", ""},
		{"holdout", "held-out split", " (written after the first tuning)"},
		{"unseen", "unseen split", " (written before the second tuning)"},
	} {
		if x := splits[sp.key]; x != nil && x.n > 0 {
			fmt.Fprintf(&b, "  %-24s %3d/%-3d %6.1f%%%s\n", "  "+sp.name, x.ok, x.n, 100*float64(x.ok)/float64(x.n), sp.note)
		}
	}
	if len(misses) > 0 {
		fmt.Fprintf(&b, "misses:\n%s\n", strings.Join(misses, "\n"))
	}
	if *evalVerbose {
		fmt.Print(b.String())
	} else {
		t.Log(b.String())
	}
}
