package patient

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// BenchmarkDirectoryLoad measures the start-up load of 10,000 patients
// (paged SELECTs, decoding, indexes, sorted views) and the heap the
// directory keeps per patient.
//
//	go test ./core/patient -run '^$' -bench DirectoryLoad -benchtime 3x
func BenchmarkDirectoryLoad(b *testing.B) {
	const n = 10_000
	db := storetest.New(b)
	aud := &patienttest.Auditor{}
	seeder, err := New(context.Background(), db, aud, WithoutLive())
	require.NoError(b, err)
	start := time.Now()
	require.NoError(b, Seed(actor.System(context.Background()), seeder, n, 1))
	b.ReportMetric(time.Since(start).Seconds(), "seed-s")
	_ = seeder.Close()
	seeder = nil

	var before, after runtime.MemStats
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		svc, err := New(context.Background(), db, aud, WithoutLive())
		require.NoError(b, err)
		b.StopTimer()
		require.Equal(b, n, svc.Count())
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/patient")
		runtime.KeepAlive(svc)
		_ = svc.Close()
		b.StartTimer()
	}
}

// BenchmarkDirectoryQuery measures the directory alone (no HTTP, no
// audit, no database) over 10,000 demo patients.
func BenchmarkDirectoryQuery(b *testing.B) {
	g := newGen(1)
	g.now = testNow
	provs := g.providers()
	ps := make([]*Patient, 0, 10_000)
	for i := range 10_000 {
		p, _ := g.patient(i, provs)
		ps = append(ps, p)
	}
	st := newTestState(ps)
	today := dayOf(testNow)
	cases := map[string]Filter{
		"filtered-50":  {Statuses: []Status{StatusActive}, Missing: []string{"email"}, Limit: 50},
		"page-50":      {Limit: 50},
		"status-50":    {Statuses: []Status{StatusActive}, Limit: 50},
		"typo-search":  {Q: "Jonh Smtih", Limit: 50},
		"birthdays-30": {BirthdayWithinDays: 30, Sort: "birthday", Limit: 50},
		"sort-created": {Sort: "-created_at", Limit: 50},
	}
	for name, f := range cases {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				if _, err := st.list(&f, today); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("stats", func(b *testing.B) {
		for range b.N {
			st.stats(testNow, StatsOptions{}, scope{})
		}
	})
}
