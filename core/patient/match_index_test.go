package patient

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMatchIndexFindsWhatAFullScanFinds: over a directory of look-alike
// patients (typos, swapped names, shared birth dates, phones and
// e-mails), changed and removed as writes would, the blocked lookup
// returns exactly the candidates a scan of every patient returns.
func TestMatchIndexFindsWhatAFullScanFinds(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 2026))
	firsts := []string{"Margaret", "Margret", "Oliver", "Olivia", "Ann", "Anne", "Zoë", "Zoe", "Thornton", "Li"}
	lasts := []string{"Thornton", "Thorntan", "Thorton", "Quinn", "Quin", "O'Brien", "Obrien", "Li", "Lee", "Margaret", "Abernathy-Smith", "Abernathysmith", "Zhang"}
	dobs := []string{"1980-05-17", "1980-17-05", "1980-05-18", "1990-01-02", "", "2001-12-30"}
	phones := []string{"", "(555) 010-2000", "+1 555 010 2000", "555-010-2001"}
	emails := []string{"", "m@x.example", "M@X.example", "o@x.example"}
	sexes := []string{"female", "male", "unknown", ""}
	person := func(i int) *Patient {
		return &Patient{ID: fmt.Sprintf("p_%04d", i), Version: 1, MRN: fmt.Sprintf("M%04d", i),
			FirstName: firsts[r.IntN(len(firsts))], LastName: lasts[r.IntN(len(lasts))], DateOfBirth: dobs[r.IntN(len(dobs))],
			Sex: sexes[r.IntN(len(sexes))], Phone: phones[r.IntN(len(phones))], Email: emails[r.IntN(len(emails))],
			Address: Address{Line1: []string{"", "1 Main St"}[r.IntN(2)], PostalCode: "02139"}}
	}
	st := newState()
	for i := range 400 {
		st.upsert(person(i))
	}
	// Writes after the load: new versions (other keys) and deletions.
	for i := range 60 {
		p := person(i * 5)
		p.Version = 2
		st.upsert(p)
		st.remove(fmt.Sprintf("p_%04d", i*7+1))
	}
	scan := func(q probe) []string {
		var ids []string
		for _, e := range st.byID {
			if _, ok := q.score(e); ok {
				ids = append(ids, e.p.ID)
			}
		}
		slices.Sort(ids)
		return ids
	}
	blocked := func(q probe) []string {
		var ids []string
		st.match.lookup(q, func(id string) {
			if _, ok := q.score(st.byID[id]); ok {
				ids = append(ids, id)
			}
		})
		slices.Sort(ids)
		return ids
	}
	found := 0
	for i := range 300 {
		p := person(10_000 + i)
		q := newProbe(Input{FirstName: p.FirstName, LastName: p.LastName, DateOfBirth: p.DateOfBirth, Sex: p.Sex,
			Phone: p.Phone, Email: p.Email, Address: p.Address})
		want := scan(q)
		found += len(want)
		require.Equal(t, want, blocked(q), "probe %d", i)
	}
	assert.Greater(t, found, 300, "the probes do find candidates")

	// Removing everything leaves no block behind.
	for id := range st.byID {
		st.remove(id)
	}
	for _, m := range []map[string]idSet{st.match.byDOB, st.match.byPhone, st.match.byEmail, st.match.byFirst, st.match.byLast} {
		assert.Empty(t, m)
	}
	assert.Empty(t, st.match.lastByLen)
}

// BenchmarkCandidates is the duplicate check of one create against
// 10,000 demo patients: the blocked lookup against the scan of every
// patient it replaced.
func BenchmarkCandidates(b *testing.B) {
	g := newGen(1)
	provs := g.providers()
	ps := make([]*Patient, 0, 10_000)
	for i := range 10_000 {
		p, _ := g.patient(i, provs)
		ps = append(ps, p)
	}
	st := newState()
	st.bulkLoad(ps)
	probes := make([]probe, 0, 100)
	for _, p := range ps[:100] {
		probes = append(probes, newProbe(Input{FirstName: p.FirstName, LastName: p.LastName + "e", DateOfBirth: p.DateOfBirth, Sex: p.Sex}))
	}
	b.Run("blocked", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q := probes[i%len(probes)]
			i++
			st.match.lookup(q, func(id string) { q.score(st.byID[id]) })
		}
	})
	b.Run("full scan", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q := probes[i%len(probes)]
			i++
			for _, e := range st.byID {
				q.score(e)
			}
		}
	})
}
