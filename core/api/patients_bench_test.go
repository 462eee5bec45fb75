package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/patient"
)

// BenchmarkPatientAPI measures patient calls end to end through the HTTP
// handler (auth by bearer token, role check, service, directory, JSON)
// with each call's audit event stored in SurrealDB by the real audit log
// (group commit), over 10,000 patients. It reports p50/p99 per call.
//
//	go test ./core/api -run '^$' -bench PatientAPI -benchtime 2000x
func BenchmarkPatientAPI(b *testing.B) {
	env := newPatientEnv(b, nil)
	start := time.Now()
	require.NoError(b, patient.Seed(actor.System(context.Background()), env.svc, 10_000, 1))
	b.Logf("seeded 10,000 patients in %v", time.Since(start))
	app := env.srv.App()
	token := "Bearer " + env.tokens[actor.RoleStaff]
	page, err := env.svc.List(actor.System(context.Background()), patient.Filter{Limit: 200})
	require.NoError(b, err)

	run := func(b *testing.B, req func(i int) (method, path, body string), want int) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			method, path, body := req(i)
			r := httptest.NewRequest(method, path, nil)
			if body != "" {
				r = httptest.NewRequest(method, path, strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
			}
			r.Header.Set("Authorization", token)
			t0 := time.Now()
			res, err := app.Test(r, -1)
			lat = append(lat, time.Since(t0))
			if err != nil || res.StatusCode != want {
				b.Fatalf("%s %s: %v %v", method, path, err, res.StatusCode)
			}
			_ = res.Body.Close()
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.Run("list-filtered-50", func(b *testing.B) {
		run(b, func(i int) (string, string, string) {
			return "GET", "/api/v1/patients?status=active&limit=50&sort=last_name&missing=email", ""
		}, 200)
	})
	b.Run("list-page-50", func(b *testing.B) {
		run(b, func(i int) (string, string, string) { return "GET", "/api/v1/patients?limit=50", "" }, 200)
	})
	b.Run("search-typo", func(b *testing.B) {
		qs := []string{"Jonh Smtih", "Mraia Garcai", "Wiliam Jonson", "Elizabth", "Ptel"}
		run(b, func(i int) (string, string, string) {
			return "GET", "/api/v1/patients?limit=50&q=" + url.QueryEscape(qs[i%len(qs)]), ""
		}, 200)
	})
	b.Run("birthdays-30d", func(b *testing.B) {
		run(b, func(i int) (string, string, string) {
			return "GET", "/api/v1/patients?birthday_within_days=30&sort=birthday&limit=50", ""
		}, 200)
	})
	b.Run("get", func(b *testing.B) {
		run(b, func(i int) (string, string, string) {
			return "GET", "/api/v1/patients/" + page.Items[i%len(page.Items)].ID, ""
		}, 200)
	})
	b.Run("create", func(b *testing.B) {
		base := time.Now().UnixNano()
		run(b, func(i int) (string, string, string) {
			return "POST", "/api/v1/patients", fmt.Sprintf(`{"mrn":"B-%d-%d","first_name":"Bench","last_name":"Mark","date_of_birth":"1990-01-01"}`, base, i)
		}, 201)
	})
}
