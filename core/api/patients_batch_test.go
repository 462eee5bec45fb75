package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/patient"
)

// TestPatientsBatch: POST /patients:batch creates the good items and
// refuses each bad one on its own, as POST /patients would — a field
// error, an MRN taken by another item, a duplicate warning unless
// confirmed — and every item leaves its own audit event.
func TestPatientsBatch(t *testing.T) {
	env := newPatientEnv(t, nil)
	ann := env.createAnn(t)
	lookalike := strings.Replace(strings.Replace(annJSON, `"Leeward"`, `"Leeware"`, 1), `"MRN-1"`, `"MRN-B3"`, 1)
	items := []string{
		`{"mrn":"MRN-B0","first_name":"Bo","last_name":"Quist","date_of_birth":"1990-01-02","sex":"male"}`,
		`{"mrn":"MRN-B1","first_name":"Cy","last_name":"Rand","date_of_birth":"1990-02-31","sex":"male"}`,
		`{"mrn":"MRN-B0","first_name":"Di","last_name":"Soto","date_of_birth":"1991-03-04","sex":"female"}`,
		lookalike,
		strings.Replace(lookalike, `{"mrn":"MRN-B3"`, `{"confirm_duplicate":true,"mrn":"MRN-B4"`, 1),
	}
	var got struct {
		Created, Failed int
		Results         []struct {
			Index, Status int
			ID            string
			Error         *struct {
				Status     int
				Errors     []struct{ Field string }
				Duplicates []patient.Candidate
			}
		}
	}
	body := `{"items":[` + strings.Join(items, ",") + `]}`
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients:batch", body, &got))
	require.Len(t, got.Results, 5)
	assert.Equal(t, 2, got.Created)
	assert.Equal(t, 3, got.Failed)
	for i, r := range got.Results {
		assert.Equal(t, i, r.Index)
	}
	r := got.Results
	assert.Equal(t, 201, r[0].Status)
	assert.NotEmpty(t, r[0].ID)
	require.NotNil(t, r[1].Error)
	assert.Equal(t, 422, r[1].Status)
	assert.Equal(t, "date_of_birth", r[1].Error.Errors[0].Field)
	require.NotNil(t, r[2].Error)
	assert.Equal(t, 409, r[2].Status)
	assert.Equal(t, "mrn", r[2].Error.Errors[0].Field, "the MRN of an earlier item")
	require.NotNil(t, r[3].Error)
	assert.Equal(t, 409, r[3].Status)
	require.NotEmpty(t, r[3].Error.Duplicates)
	assert.Equal(t, ann.ID, r[3].Error.Duplicates[0].ID)
	assert.Equal(t, 201, r[4].Status, "confirmed per item")
	assert.Equal(t, 3, env.svc.Count())

	var p patient.Patient
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "GET", "/api/v1/patients/"+r[4].ID, "", &p))
	assert.Equal(t, "Leeware", p.LastName)

	// Every item is audited: two creates, three refusals.
	require.Eventually(t, func() bool {
		page, err := env.log.List(actor.System(t.Context()), audit.Filter{Action: "patient.create"})
		if err != nil {
			return false
		}
		ok, failed := 0, 0
		for _, e := range page.Items {
			if e.Outcome == audit.OutcomeSuccess {
				ok++
			} else {
				failed++
			}
		}
		return ok == 3 && failed == 3 // Ann's create, then the batch's 2 + 3
	}, 2*time.Minute, 50*time.Millisecond)

	// The batch's confirm_duplicate covers every item.
	again := `{"confirm_duplicate":true,"items":[` + strings.Replace(lookalike, `"MRN-B3"`, `"MRN-B5"`, 1) + `]}`
	require.Equal(t, 200, env.call(t, actor.RoleStaff, "POST", "/api/v1/patients:batch", again, &got))
	assert.Equal(t, 1, got.Created)
	assert.Equal(t, 201, got.Results[0].Status)
	assert.NotContains(t, fmt.Sprint(got), "Leeware", "results name no patient data")
}

// TestPatientsBatchRefusals: the whole request is refused when it is
// empty, too large or malformed, or the role may not create patients;
// nothing is created.
func TestPatientsBatchRefusals(t *testing.T) {
	env := newPatientEnv(t, nil)
	big := make([]string, patient.MaxBatch+1)
	for i := range big {
		big[i] = fmt.Sprintf(`{"mrn":"MRN-%d","first_name":"A","last_name":"B%d","date_of_birth":"1990-01-02"}`, i, i)
	}
	cases := []struct {
		name   string
		role   actor.Role
		body   string
		status int
		field  string
	}{
		{"empty", actor.RoleStaff, `{"items":[]}`, 422, "items"},
		{"too many", actor.RoleStaff, `{"items":[` + strings.Join(big, ",") + `]}`, 422, "items"},
		{"not JSON", actor.RoleStaff, `{"items":`, 400, ""},
		{"auditor", actor.RoleAuditor, `{"items":[` + big[0] + `]}`, 403, ""},
		{"anonymous", "", `{"items":[` + big[0] + `]}`, 401, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, b := do(t, env.srv.App(), "POST", "/api/v1/patients:batch", tc.body, env.as(tc.role)...)
			require.Equal(t, tc.status, res.StatusCode, string(b))
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			if tc.field != "" {
				var pr Problem
				require.NoError(t, json.Unmarshal(b, &pr))
				require.NotEmpty(t, pr.Errors)
				assert.Equal(t, tc.field, pr.Errors[0].Field)
			}
		})
	}
	assert.Zero(t, env.svc.Count())
}

// BenchmarkSeedThroughBatch seeds 10,000 patients through POST
// /patients:batch as a migration script would (500 per request, 4
// requests in flight), on the real database and audit log, and reports
// seconds per 10,000 (run with -benchtime 1x).
func BenchmarkSeedThroughBatch(b *testing.B) {
	const total, per, inFlight = 10_000, patient.MaxBatch, 2
	firsts := []string{"Ada", "Bruno", "Celia", "Dmitri", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas"}
	lasts := []string{"Quill", "Ruskin", "Stavros", "Tennant", "Ulm", "Varga", "Weiss", "Xu", "Young", "Zamora"}
	for b.Loop() {
		b.StopTimer()
		env := newPatientEnv(b, nil)
		bodies := make([]string, 0, total/per)
		for lo := 0; lo < total; lo += per {
			items := make([]string, 0, per)
			for i := lo; i < lo+per; i++ {
				items = append(items, fmt.Sprintf(`{"mrn":"SEED-%05d","first_name":"%s","last_name":"%s%d","date_of_birth":"19%02d-%02d-%02d","sex":"female","phone":"555%07d"}`,
					i, firsts[i%len(firsts)], lasts[(i/10)%len(lasts)], i, 30+i%70, 1+i%12, 1+i%28, i))
			}
			bodies = append(bodies, `{"confirm_duplicate":true,"items":[`+strings.Join(items, ",")+`]}`)
		}
		b.StartTimer()
		start := time.Now()
		work := make(chan string)
		errs := make(chan error, len(bodies))
		done := make(chan struct{})
		for range inFlight {
			go func() {
				for body := range work {
					var got struct{ Created int }
					if st := env.call(b, actor.RoleStaff, "POST", "/api/v1/patients:batch", body, &got); st != 200 || got.Created != per {
						errs <- fmt.Errorf("status %d, created %d", st, got.Created)
					}
				}
				done <- struct{}{}
			}()
		}
		for _, body := range bodies {
			work <- body
		}
		close(work)
		for range inFlight {
			<-done
		}
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/10k")
		if n := env.svc.Count(); n != total {
			b.Fatalf("%d patients, want %d", n, total)
		}
	}
}
