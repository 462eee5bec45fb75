package api

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

type importEnv struct {
	srv    *Server
	env    *importertest.Env
	tokens map[actor.Role]string
}

func newImportEnv(t *testing.T, opts ...importer.Options) *importEnv {
	t.Helper()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	var opt importer.Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	env := importertest.New(t, db, log, opt)
	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 10_000})
	cfg := testConfig(t)
	cfg.APIRateLimit = 1 << 30
	e := &importEnv{env: env, tokens: map[actor.Role]string{}}
	e.srv = New(Deps{Logger: quiet, Config: cfg, DB: db, Services: Services{Auth: au, Audit: log, Patients: env.Patients, Imports: env.Imports, Review: env.Review}})
	sys := actor.System(context.Background())
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		_, err := au.CreateUser(sys, auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, Password: apiTestPassword})
		require.NoError(t, err)
		res, body := do(t, e.srv.App(), "POST", "/api/v1/auth/login", `{"email":"`+string(r)+`@x.example","password":"`+apiTestPassword+`"}`)
		require.Equal(t, 200, res.StatusCode, string(body))
		var s sessionResponse
		require.NoError(t, json.Unmarshal(body, &s))
		e.tokens[r] = s.Token
	}
	return e
}

// upload posts files (name -> content) as multipart parts named "files".
func (e *importEnv) upload(t *testing.T, role actor.Role, files map[string][]byte) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, data := range files {
		w, err := mw.CreateFormFile("files", name)
		require.NoError(t, err)
		_, _ = w.Write(data)
	}
	require.NoError(t, mw.Close())
	req := httptest.NewRequest("POST", "/api/v1/imports", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	res, err := e.srv.App().Test(req, -1)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (e *importEnv) get(t *testing.T, role actor.Role, path string, out any) int {
	t.Helper()
	var hdr []string
	if role != "" {
		hdr = []string{"Authorization", "Bearer " + e.tokens[role]}
	}
	res, b := do(t, e.srv.App(), "GET", path, "", hdr...)
	if out != nil && res.StatusCode == 200 {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
	return res.StatusCode
}

func fhirDoc(mrn, family string) []byte {
	return []byte(fmt.Sprintf(`<Patient xmlns="http://hl7.org/fhir"><identifier><type><coding><code value="MR"/></coding></type><system value="urn:oid:1.2.3.4"/><value value="%s"/></identifier>`+
		`<name><family value="%s"/><given value="Ann"/></name><gender value="female"/><birthDate value="1980-02-03"/></Patient>`, mrn, family))
}

type importJSON struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Progress struct {
		Done  int `json:"done"`
		Total int `json:"total"`
	} `json:"progress"`
	Files []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Result   string `json:"result"`
		Problems []struct {
			Element string `json:"element"`
			Message string `json:"message"`
		} `json:"problems"`
		PatientIDs []string `json:"patient_ids"`
		DocumentID string   `json:"document_id"`
	} `json:"files"`
}

func (e *importEnv) wait(t *testing.T, id string) importJSON {
	t.Helper()
	var job importJSON
	require.Eventually(t, func() bool {
		job = importJSON{}
		return e.get(t, actor.RoleStaff, "/api/v1/imports/"+id, &job) == 200 && job.Status == "done"
	}, 60*time.Second, 50*time.Millisecond)
	return job
}

func TestImportsAPI(t *testing.T) {
	e := newImportEnv(t)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("inner/b.xml")
	_, _ = w.Write(fhirDoc("API-2", "Beta"))
	w, _ = zw.Create("../escape.xml")
	_, _ = w.Write(fhirDoc("API-3", "Gamma"))
	require.NoError(t, zw.Close())

	// Roles: auditors and anonymous callers may not import.
	code, _ := e.upload(t, actor.RoleAuditor, map[string][]byte{"a.xml": fhirDoc("API-1", "Alpha")})
	assert.Equal(t, 403, code)
	code, _ = e.upload(t, "", map[string][]byte{"a.xml": fhirDoc("API-1", "Alpha")})
	assert.Equal(t, 401, code)
	res, _ := do(t, e.srv.App(), "POST", "/api/v1/imports", `{"files":[]}`, "Authorization", "Bearer "+e.tokens[actor.RoleStaff])
	assert.Equal(t, 400, res.StatusCode)

	code, body := e.upload(t, actor.RoleStaff, map[string][]byte{"a.xml": fhirDoc("API-1", "Alpha"), "more.zip": zbuf.Bytes(), "junk.txt": []byte("hello")})
	require.Equal(t, 202, code, string(body))
	var accepted struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &accepted))
	require.NotEmpty(t, accepted.ID)

	job := e.wait(t, accepted.ID)
	assert.Equal(t, 4, job.Progress.Total)
	results := map[string]string{}
	var docID, patientID string
	for _, f := range job.Files {
		results[f.Name] = f.Result
		if f.Name == "a.xml" {
			docID, patientID = f.DocumentID, f.PatientIDs[0]
		}
	}
	assert.Equal(t, map[string]string{"a.xml": "created", "more.zip/inner/b.xml": "created", "more.zip/../escape.xml": "rejected", "junk.txt": "rejected"}, results)

	var list struct{ Items []importer.Job }
	require.Equal(t, 200, e.get(t, actor.RoleAdmin, "/api/v1/imports", &list))
	require.Len(t, list.Items, 1)
	assert.Equal(t, 403, e.get(t, actor.RoleAuditor, "/api/v1/imports", nil))
	assert.Equal(t, 404, e.get(t, actor.RoleStaff, "/api/v1/imports/nope", nil))

	var q struct{ Items []importer.File }
	require.Equal(t, 200, e.get(t, actor.RoleStaff, "/api/v1/imports/quarantine", &q))
	require.Len(t, q.Items, 2)

	// Retry a quarantined file: rejected again (it is still not XML).
	var junk importer.File
	for _, f := range q.Items {
		if f.Name == "junk.txt" {
			junk = f
		}
	}
	res, body = do(t, e.srv.App(), "POST", "/api/v1/imports/files/"+junk.ID+"/retry", "", "Authorization", "Bearer "+e.tokens[actor.RoleStaff])
	require.Equal(t, 200, res.StatusCode, string(body))
	var retried importer.Job
	require.NoError(t, json.Unmarshal(body, &retried))
	assert.Equal(t, "rejected", retried.Files[0].Result)
	res, _ = do(t, e.srv.App(), "POST", "/api/v1/imports/files/"+junk.ID+"/retry", "", "Authorization", "Bearer "+e.tokens[actor.RoleStaff])
	assert.Equal(t, 409, res.StatusCode)

	// Kept documents: listed per patient and readable by staff, not auditors.
	var docs struct{ Items []importer.Document }
	require.Equal(t, 200, e.get(t, actor.RoleStaff, "/api/v1/patients/"+patientID+"/documents", &docs))
	require.Len(t, docs.Items, 1)
	assert.Equal(t, docID, docs.Items[0].ID)
	res, body = do(t, e.srv.App(), "GET", "/api/v1/documents/"+docID, "", "Authorization", "Bearer "+e.tokens[actor.RoleStaff])
	require.Equal(t, 200, res.StatusCode)
	assert.Equal(t, "application/xml", res.Header.Get("Content-Type"))
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "sandbox")
	assert.Equal(t, string(fhirDoc("API-1", "Alpha")), string(body))
	assert.Equal(t, 403, e.get(t, actor.RoleAuditor, "/api/v1/documents/"+docID, nil))
	assert.Equal(t, 403, e.get(t, actor.RoleAuditor, "/api/v1/patients/"+patientID+"/documents", nil))
}

// TestImportFolderThroughAPI uploads the public samples folder (zipped)
// through the real server and checks it ends as the CLI run does.
func TestImportFolderThroughAPI(t *testing.T) {
	dir := importertest.SamplesDir()
	if dir == "" {
		t.Skip("../shared/testdata not present")
	}
	// One applier, as the CLI run of samples.txt: which of two look-alike
	// documents is created and which waits for review depends on order.
	e := newImportEnv(t, importer.Options{ApplyWorkers: 1})
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	n := 0
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".xml" {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		n++
		_, err = w.Write(b)
		return err
	}))
	require.NoError(t, zw.Close())
	code, body := e.upload(t, actor.RoleStaff, map[string][]byte{"samples.zip": zbuf.Bytes()})
	require.Equal(t, 202, code, string(body))
	var accepted struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &accepted))
	job := e.wait(t, accepted.ID)
	require.Len(t, job.Files, n)
	counts := map[string]int{}
	for _, f := range job.Files {
		counts[f.Result]++
	}
	// As in core/importer/testdata/samples.txt (without the two .md files).
	assert.Equal(t, map[string]int{"created": 40, "updated": 1, "unchanged": 3, "needs_review": 37, "rejected": 8}, counts)
}

// H2, H5: the upload is the one route past body_limit_bytes, and only
// once signed in: its body is streamed through UploadMaxBytes (however it
// is framed) and each file through its own limit.
func TestImportUploadLimits(t *testing.T) {
	const maxBytes = 4 << 10 // files of 4 KiB, uploads of 80 KiB + 1 MiB
	e := newImportEnv(t, importer.Options{MaxBytes: maxBytes})
	limit := importer.UploadMaxBytes(maxBytes)
	// Every other body is at most 1 KiB here; the uploads below are larger.
	e.srv.cfg.BodyLimitBytes = 1024
	res, _ := do(t, e.srv.App(), "POST", "/api/v1/auth/login", `{"email":"`+strings.Repeat("x", 2000)+`"}`)
	require.Equal(t, 413, res.StatusCode)
	post := func(t *testing.T, role actor.Role, ctype string, body io.Reader, chunked bool) (int, string) {
		req := httptest.NewRequest("POST", "/api/v1/imports", body)
		req.Header.Set("Content-Type", ctype)
		if chunked {
			req.ContentLength, req.TransferEncoding = 0, []string{"chunked"}
		}
		if role != "" {
			req.Header.Set("Authorization", "Bearer "+e.tokens[role])
		}
		res, err := e.srv.App().Test(req, -1)
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	multipartOf := func(files map[string][]byte) (string, []byte) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for name, data := range files {
			w, err := mw.CreateFormFile("files", name)
			require.NoError(t, err)
			_, _ = w.Write(data)
		}
		require.NoError(t, mw.Close())
		return mw.FormDataContentType(), buf.Bytes()
	}
	huge := bytes.Repeat([]byte("x"), int(limit)+10)
	ct, body := multipartOf(map[string][]byte{"a.xml": huge})

	status, text := post(t, "", ct, bytes.NewReader(body), false)
	assert.Equal(t, 401, status, "anonymous: refused before the body is read")
	status, text = post(t, actor.RoleStaff, ct, bytes.NewReader(body), false)
	assert.Equal(t, 413, status, text)
	status, text = post(t, actor.RoleStaff, ct, bytes.NewReader(body), true)
	assert.Equal(t, 413, status, "chunked, so only counting can tell: "+text)
	status, _ = post(t, actor.RoleStaff, "multipart/form-data", bytes.NewReader(body[:100]), false)
	assert.Equal(t, 400, status, "no boundary")
	status, _ = post(t, actor.RoleStaff, ct, strings.NewReader("--nonsense"), false)
	assert.Equal(t, 422, status, "no part at all")
	status, _ = post(t, actor.RoleStaff, "multipart/form-data; boundary=B", strings.NewReader("--B\r\nnot a header\r\n\r\nx\r\n--B--\r\n"), false)
	assert.Equal(t, 400, status, "a damaged part")

	// A file over its own limit is refused (and skipped unread); the
	// others are kept.
	ct, body = multipartOf(map[string][]byte{"big.xml": bytes.Repeat([]byte("x"), maxBytes+1), "a.xml": fhirDoc("UP-1", "Alpha")})
	require.Greater(t, len(body), e.srv.cfg.BodyLimitBytes)
	status, text = post(t, actor.RoleStaff, ct, bytes.NewReader(body), true)
	require.Equal(t, 202, status, text)
	var accepted struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(text), &accepted))
	job := e.wait(t, accepted.ID)
	results := map[string]string{}
	for _, f := range job.Files {
		results[f.Name] = f.Result
		if f.Name == "big.xml" {
			assert.Empty(t, f.DocumentID, "not kept")
		}
	}
	assert.Equal(t, map[string]string{"a.xml": "created", "big.xml": "rejected"}, results)

	// While uploadsAtOnce others are being received, an upload waits its turn.
	for range uploadsAtOnce {
		e.srv.uploads <- struct{}{}
	}
	ct, body = multipartOf(map[string][]byte{"a.xml": fhirDoc("UP-2", "Beta")})
	status, text = post(t, actor.RoleStaff, ct, bytes.NewReader(body), false)
	assert.Equal(t, 429, status, text)
	for range uploadsAtOnce {
		<-e.srv.uploads
	}
	status, text = post(t, actor.RoleStaff, ct, bytes.NewReader(body), false)
	assert.Equal(t, 202, status, text)

	// No part named files.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("note", "hello"))
	require.NoError(t, mw.Close())
	status, text = post(t, actor.RoleStaff, mw.FormDataContentType(), &buf, false)
	assert.Equal(t, 422, status, text)
}
