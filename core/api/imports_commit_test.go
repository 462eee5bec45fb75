package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/importer"
)

// form posts ordered multipart parts: [2]string{name, value} fields and
// a file "files" (when name is not empty) last.
func (e *importEnv) form(t *testing.T, role actor.Role, fields [][2]string, fileName string, data []byte, fieldsAfter bool) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	writeFields := func() {
		for _, f := range fields {
			require.NoError(t, mw.WriteField(f[0], f[1]))
		}
	}
	if !fieldsAfter {
		writeFields()
	}
	if fileName != "" {
		w, err := mw.CreateFormFile("files", fileName)
		require.NoError(t, err)
		_, _ = w.Write(data)
	}
	if fieldsAfter {
		writeFields()
	}
	require.NoError(t, mw.Close())
	req := httptest.NewRequest("POST", "/api/v1/imports", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	res, err := e.srv.App().Test(req, -1)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func TestImportDryRunAndCommitAPI(t *testing.T) {
	e := newImportEnv(t)
	doc := []byte("Nr,Given,Surname,DOB\r\nA-1,Ann,Lee,1980-01-02\r\nA-2,Bo,,1980-01-03\r\n")
	dry := [][2]string{{"dry_run", "true"}, {"mapping", `{"Nr": "mrn"}`}}

	status, body := e.form(t, actor.RoleStaff, dry, "list.csv", doc, false)
	require.Equal(t, 200, status, string(body))
	var dr importer.DryRun
	require.NoError(t, json.Unmarshal(body, &dr))
	assert.Equal(t, importer.DryRunCounts{Total: 2, Create: 1, Rejected: 1}, dr.Counts)
	assert.Equal(t, "mrn", dr.Columns[0].Field)
	assert.Contains(t, dr.Fields, "address.postal_code")
	assert.Equal(t, []string{"last_name"}, dr.Rows[1].Fields)
	assert.Equal(t, 0, e.env.Patients.Count(), "a dry run creates nobody")

	// Bad input: problem+json naming the field, nothing stored.
	for _, tc := range []struct {
		name   string
		fields [][2]string
		after  bool
		file   string
		want   string
	}{
		{"unknown field", [][2]string{{"dry_run", "true"}, {"mapping", `{"Nr": "shoe_size"}`}}, false, "list.csv", "mapping"},
		{"mapping not json", [][2]string{{"dry_run", "true"}, {"mapping", `Nr=mrn`}}, false, "list.csv", "mapping"},
		{"dry_run not bool", [][2]string{{"dry_run", "maybe"}}, false, "list.csv", "dry_run"},
		{"fields after the file", dry, true, "list.csv", "dry_run"},
		{"no file", dry, false, "", "files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.form(t, actor.RoleStaff, tc.fields, tc.file, doc, tc.after)
			require.Equal(t, 422, status, string(body))
			assert.Contains(t, string(body), `"field":"`+tc.want+`"`)
		})
	}
	status, _ = e.form(t, actor.RoleAuditor, dry, "list.csv", doc, false)
	assert.Equal(t, 403, status)

	// Commit: 202 with the job; the mapping of the dry run applies.
	commit := func(role actor.Role, id string) (int, []byte) {
		res, b := do(t, e.srv.App(), "POST", "/api/v1/imports/"+id+"/commit", "", "Authorization", "Bearer "+e.tokens[role])
		return res.StatusCode, b
	}
	status, body = commit(actor.RoleAdmin, dr.ID)
	assert.Equal(t, 404, status, "only the user who ran the dry run commits it: %s", body)
	status, body = commit(actor.RoleStaff, dr.ID)
	require.Equal(t, 202, status, string(body))
	var job importJSON
	require.NoError(t, json.Unmarshal(body, &job))
	done := e.wait(t, job.ID)
	require.Len(t, done.Files, 1)
	assert.Equal(t, "created", done.Files[0].Result)
	p, err := e.env.Patients.GetByMRN(staffCtx(), "A-1")
	require.NoError(t, err)
	assert.Equal(t, "Lee", p.LastName)
	status, body = commit(actor.RoleStaff, dr.ID)
	assert.Equal(t, 404, status, string(body))
	assert.Contains(t, string(body), "expired")

	// An upload (not a dry run) takes the mapping too.
	status, body = e.form(t, actor.RoleStaff, [][2]string{{"mapping", `{"Nr": "mrn"}`}}, "list2.csv",
		[]byte("Nr,Given,Surname\nB-1,Cy,Ng\n"), false)
	require.Equal(t, 202, status, string(body))
	require.NoError(t, json.Unmarshal(body, &job))
	e.wait(t, job.ID)
	_, err = e.env.Patients.GetByMRN(staffCtx(), "B-1")
	require.NoError(t, err)
}

func staffCtx() context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: "u_csv", Role: actor.RoleStaff})
}
