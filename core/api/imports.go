package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/importer"
)

// bindImportsAPI binds imports (upload, progress, quarantine, retry) and
// the kept original documents. Staff and admins only: imported files
// carry PHI, so auditors have no access.
func (s *Server) bindImportsAPI(r fiber.Router) {
	if s.deps.Imports == nil {
		return
	}
	r.Post("/imports", allow(staffAndAdmin), s.createImport)
	r.Get("/imports", allow(staffAndAdmin), s.listImports)
	r.Get("/imports/quarantine", allow(staffAndAdmin), s.importQuarantine)
	r.Post("/imports/files/:id/retry", allow(staffAndAdmin), s.retryImportFile)
	r.Post("/imports/:id/commit", allow(staffAndAdmin), s.commitImport)
	r.Get("/imports/:id", allow(staffAndAdmin), s.getImport)
	r.Get("/patients/:id/documents", allow(readersOfPHI), s.patientDocuments)
	r.Get("/documents/:id", allow(readersOfPHI), s.getDocument)
}

const (
	// uploadTimeout is how long a signed-in upload may take to arrive
	// (the server's read_timeout applies until authentication).
	uploadTimeout = 10 * time.Minute
	// uploadsAtOnce is how many uploads one process receives at a time:
	// each may hold a file of up to 20 × import_max_bytes in memory.
	uploadsAtOnce = 2
)

// errUploadsBusy answers an upload while uploadsAtOnce others arrive.
var errUploadsBusy = fault.New(fault.ErrTooMany, "other uploads are being received right now; try again in a moment")

// errUploadTooLarge refuses an upload body above importer.UploadMaxBytes.
func errUploadTooLarge(limit int64) error {
	return fault.Newf(fault.ErrTooLarge, "the upload is larger than %d bytes; send the files in several uploads", limit)
}

// createImport answers POST /imports (multipart, parts named "files";
// .zip parts are expanded) with 202 {id} at once; the job runs in the
// background. It is the one route whose body may exceed body_limit_bytes:
// the body is streamed part by part, after authentication, through
// importer.UploadMaxBytes in all and importer.FileMaxBytes per file, and
// each document is stored as it arrives (importer.Upload).
func (s *Server) createImport(c *fiber.Ctx) error {
	mt, params, perr := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if perr != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return fault.New(fault.ErrInvalid, "send the documents as multipart/form-data, one or more parts named files")
	}
	svc := s.deps.Imports
	limit := importer.UploadMaxBytes(svc.MaxBytes())
	if c.Request().Header.ContentLength() > int(limit) {
		return errUploadTooLarge(limit)
	}
	ctx := c.UserContext()
	up, err := svc.BeginUpload(ctx)
	if err != nil {
		return err
	}
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	default:
		c.Set(fiber.HeaderRetryAfter, "5")
		return errUploadsBusy
	}
	if conn := c.Context().Conn(); conn != nil {
		_ = conn.SetReadDeadline(time.Now().Add(uploadTimeout))
	}
	body := &cappedReader{r: requestBodyReader(c), left: limit}
	mr := multipart.NewReader(body, params["boundary"])
	form := &uploadForm{up: up} // dry_run and mapping (imports_commit.go)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return uploadReadError(body, limit)
		}
		if err := s.takePart(ctx, form, part); err != nil {
			if body.over {
				return errUploadTooLarge(limit)
			}
			return err
		}
	}
	if form.Files() == 0 {
		return fault.Field("files", "send at least one file in a part named files")
	}
	if form.dryRun {
		return s.dryRunImport(c, form)
	}
	job, err := up.Submit(ctx)
	if err != nil {
		return err
	}
	c.Location(c.BaseURL() + c.Path() + "/" + job.ID)
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": job.ID, "status": job.Status, "progress": job.Progress})
}

// takePart reads one part: a file of the part "files" is handed to the
// upload (refused, and skipped unread past its limit, when too large);
// other parts are skipped.
func (s *Server) takePart(ctx context.Context, up *uploadForm, part *multipart.Part) error {
	defer part.Close()
	if handled, err := up.field(part); handled {
		return err
	}
	if part.FormName() != "files" {
		if _, err := io.Copy(io.Discard, part); err != nil {
			return fault.New(fault.ErrInvalid, "the multipart body cannot be read")
		}
		return nil
	}
	name := part.FileName()
	limit := importer.FileMaxBytes(name, s.deps.Imports.MaxBytes())
	data, err := io.ReadAll(io.LimitReader(part, limit+1))
	if err != nil {
		return fault.New(fault.ErrInvalid, "an uploaded part cannot be read")
	}
	in := importer.Input{Name: name, Data: data, Size: int64(len(data))}
	if int64(len(data)) > limit {
		rest, err := io.Copy(io.Discard, part)
		if err != nil {
			return fault.New(fault.ErrInvalid, "an uploaded part cannot be read")
		}
		in = importer.Input{Name: name, Size: int64(len(data)) + rest,
			Refused: "the file is larger than the limit per document (import_max_bytes); it was not kept"}
	}
	return up.Add(ctx, in)
}

func uploadReadError(body *cappedReader, limit int64) error {
	if body.over {
		return errUploadTooLarge(limit)
	}
	return fault.New(fault.ErrInvalid, "the multipart body cannot be read")
}

// requestBodyReader is the raw request body: the stream when the server
// has not read it yet, else the bytes in memory.
func requestBodyReader(c *fiber.Ctx) io.Reader {
	if r := c.Request().BodyStream(); r != nil {
		return r
	}
	return bytes.NewReader(c.Request().Body())
}

// cappedReader reads at most left bytes, then fails (and says so in
// over).
type cappedReader struct {
	r    io.Reader
	left int64
	over bool
}

var errBodyCapped = errors.New("request body larger than its limit")

func (r *cappedReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		// Past the limit: one more byte means too large.
		var one [1]byte
		if n, _ := r.r.Read(one[:]); n > 0 {
			r.over = true
			return 0, errBodyCapped
		}
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}

// listImports answers GET /imports?limit=N: recent jobs, newest first.
func (s *Server) listImports(c *fiber.Ctx) error {
	jobs, err := s.deps.Imports.Jobs(c.UserContext(), queryInt(c, "limit"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": jobs})
}

// getImport answers GET /imports/{id}: status, progress and every file
// with its result and problems.
func (s *Server) getImport(c *fiber.Ctx) error {
	job, err := s.deps.Imports.Job(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(job)
}

// importQuarantine answers GET /imports/quarantine: files kept with the
// reason they could not be imported.
func (s *Server) importQuarantine(c *fiber.Ctx) error {
	files, err := s.deps.Imports.Quarantine(c.UserContext(), queryInt(c, "limit"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": files})
}

// retryImportFile answers POST /imports/files/{id}/retry with the new
// job of one file, already done.
func (s *Server) retryImportFile(c *fiber.Ctx) error {
	job, err := s.deps.Imports.Retry(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(job)
}

// patientDocuments answers GET /patients/{id}/documents (audited).
func (s *Server) patientDocuments(c *fiber.Ctx) error {
	docs, err := s.deps.Imports.PatientDocuments(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": docs})
}

// getDocument answers GET /documents/{id} with the original document as
// it was imported (audited). It is served as XML in a sandbox, so a
// stylesheet or script in it cannot run against the dashboard.
func (s *Server) getDocument(c *fiber.Ctx) error {
	doc, err := s.deps.Imports.Document(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/xml")
	c.Set(fiber.HeaderContentSecurityPolicy, "sandbox; default-src 'none'")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+safeFilename(doc.Name)+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(doc.Content)
}

func queryInt(c *fiber.Ctx, key string) int {
	n, _ := strconv.Atoi(c.Query(key))
	return n
}

// safeFilename keeps letters, digits, dots, dashes and underscores.
func safeFilename(n string) string {
	b := []byte(n)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '-' || ch == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
