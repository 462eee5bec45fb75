package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// letters spells n as four letters, so generated names share nothing
// the duplicate scorer would take for a typo.
func letters(n int) string {
	b := []byte("Baaa")
	for i := 3; i > 0; i-- {
		b[i] = byte('a' + n%26)
		n /= 26
	}
	return string(b)
}

// csvOf1000 is a patient list of 1,000 rows: 950 new people, 20 invalid
// rows (a bad birth date, a missing surname) and 30 new chart numbers
// for people the practice already has (seeded).
func csvOf1000(seeded []patient.Input) string {
	var b strings.Builder
	b.WriteString("\xEF\xBB\xBFChart #;Given;Surname;Birth Date;Gender;E-mail\r\n")
	dob := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		mrn := fmt.Sprintf("CSV-%04d", i)
		switch {
		case i%50 == 7: // 20 invalid
			if i%100 == 7 {
				fmt.Fprintf(&b, "%s;Inv;%s;1980-13-45;F;\r\n", mrn, "Bad"+letters(i))
			} else {
				fmt.Fprintf(&b, "%s;Inv;;1980-01-01;F;\r\n", mrn)
			}
		case i < 500 && (i%50 == 11 || i%50 == 31 || i%50 == 41): // 30 duplicates
			s := seeded[0]
			seeded = seeded[1:]
			fmt.Fprintf(&b, "%s;%s;%s;%s;%s;\r\n", mrn, s.FirstName, s.LastName, s.DateOfBirth, s.Sex)
		default:
			d := dob.AddDate(0, 0, i*17).Format("01/02/2006")
			fmt.Fprintf(&b, "%s;%s;%s;%s;M;%s@example.org\r\n", mrn, "G"+letters(i*7), "S"+letters(i), d, strings.ToLower(letters(i)))
		}
	}
	return b.String()
}

func TestDryRunMatchesCommit(t *testing.T) {
	db := storetest.New(t)
	rec := &importertest.Recorder{}
	env := importertest.New(t, db, rec, importer.Options{})
	var seeded []patient.Input
	for i := range 30 {
		in := patient.Input{MRN: fmt.Sprintf("OLD-%02d", i), FirstName: "Kept" + letters(i*3+1), LastName: "Zed" + letters(i),
			DateOfBirth: fmt.Sprintf("19%02d-0%d-1%d", 50+i, 1+i%9, i%10), Sex: "female", Status: patient.StatusActive}
		_, err := env.Patients.Create(staff(), in)
		require.NoError(t, err)
		seeded = append(seeded, in)
	}
	doc := csvOf1000(seeded)
	before := map[string]int{}
	tables := []string{"patient", "review_item", "import_job", "import_file", "source_document", "patient_document"}
	for _, tb := range tables {
		before[tb] = count(t, db, tb)
	}
	rec.Reset()

	dr, err := env.Imports.DryRun(staff(), importer.Input{Name: "list.csv", Data: []byte(doc)})
	require.NoError(t, err)
	require.Empty(t, dr.Detail)
	assert.Equal(t, importer.FormatCSV, dr.Format)
	assert.Equal(t, importer.DryRunCounts{Total: 1000, Create: 950, Duplicate: 30, Rejected: 20}, dr.Counts)
	assert.Equal(t, []string{"mrn", "first_name", "last_name", "date_of_birth", "sex", "email"},
		[]string{dr.Columns[0].Field, dr.Columns[1].Field, dr.Columns[2].Field, dr.Columns[3].Field, dr.Columns[4].Field, dr.Columns[5].Field})
	require.Len(t, dr.Rows, 1000)
	assert.Equal(t, "row 2", dr.Rows[0].Record)
	assert.Equal(t, "CSV-0000", dr.Rows[0].Values["mrn"])
	assert.Nil(t, dr.Rows[importer.PreviewRows].Values, "values only for the preview rows")
	bad := dr.Rows[7]
	assert.Equal(t, importer.ActionRejected, bad.Action)
	assert.Equal(t, []string{"date_of_birth"}, bad.Fields)
	assert.Equal(t, []string{"last_name"}, dr.Rows[57].Fields)
	dup := dr.Rows[11]
	assert.Equal(t, importer.ActionDuplicate, dup.Action)
	assert.Equal(t, "likely_duplicate", dup.Reason)
	assert.Len(t, dup.PatientIDs, 1)

	// The dry run wrote nothing: no patient, review item, job, file or
	// kept document; the audit trail has its own event and reads only.
	for _, tb := range tables {
		assert.Equal(t, before[tb], count(t, db, tb), tb)
	}
	assert.Equal(t, 1, count(t, db, "import_draft"))
	for _, e := range rec.Events() {
		assert.Contains(t, []string{"import.dry_run", "patient.read", "patient.candidates"}, e.Action)
		assert.NotContains(t, e.Detail, "Kept")
	}
	ev, ok := rec.Last("import.dry_run")
	require.True(t, ok)
	assert.Equal(t, dr.ID, ev.Record)

	// Another user cannot commit it; the owner can, once.
	_, err = env.Imports.Commit(otherStaff(), dr.ID)
	require.ErrorIs(t, err, fault.ErrNotFound)
	job, err := env.Imports.Commit(staff(), dr.ID)
	require.NoError(t, err)
	_, err = env.Imports.Commit(staff(), dr.ID)
	require.ErrorIs(t, err, importer.ErrDraftNotFound)
	j := waitJob(t, env, job.ID)
	require.Len(t, j.Files, 1)
	f := j.Files[0]
	assert.Equal(t, importer.ResultCreated, f.Result, f.Detail)
	assert.Equal(t, 1000, f.Records)

	// The commit did what the dry run said.
	assert.Equal(t, before["patient"]+dr.Counts.Create, count(t, db, "patient"))
	assert.Equal(t, before["review_item"]+dr.Counts.Duplicate, count(t, db, "review_item"))
	rejected := map[string]bool{}
	for _, p := range f.Problems {
		if p.Severity == "error" {
			rejected[p.Record] = true
		}
	}
	assert.Len(t, rejected, dr.Counts.Rejected)
	assert.True(t, rejected["row 9"], "row numbers as a spreadsheet shows them")
	assert.Equal(t, 0, count(t, db, "import_draft"))

	// A second dry run of the same list now finds every row imported.
	dr2, err := env.Imports.DryRun(staff(), importer.Input{Name: "list.csv", Data: []byte(doc)})
	require.NoError(t, err)
	assert.Equal(t, 950, dr2.Counts.Unchanged)
	assert.Equal(t, 20, dr2.Counts.Rejected)
}

func otherStaff() context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: "user_staff2", Role: actor.RoleStaff, RequestID: "req-staff2"})
}

func waitJob(t *testing.T, env *importertest.Env, id string) *importer.Job {
	t.Helper()
	var j *importer.Job
	require.Eventually(t, func() bool {
		var err error
		j, err = env.Imports.Job(staff(), id)
		return err == nil && j.Status != importer.StatusRunning
	}, 10*time.Minute, 200*time.Millisecond)
	require.Equal(t, importer.StatusDone, j.Status)
	return j
}
