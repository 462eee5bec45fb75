package api

import (
	"io"
	"strconv"

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
	r.Get("/imports/:id", allow(staffAndAdmin), s.getImport)
	r.Get("/patients/:id/documents", allow(readersOfPHI), s.patientDocuments)
	r.Get("/documents/:id", allow(readersOfPHI), s.getDocument)
}

// createImport answers POST /imports (multipart, parts named "files";
// .zip parts are expanded) with 202 {id} at once; the job runs in the
// background.
func (s *Server) createImport(c *fiber.Ctx) error {
	if !isMultipart(c) {
		return fault.New(fault.ErrInvalid, "send the documents as multipart/form-data, one or more parts named files")
	}
	form, err := c.MultipartForm()
	if err != nil {
		return fault.New(fault.ErrInvalid, "the multipart body cannot be read")
	}
	parts := form.File["files"]
	if len(parts) == 0 {
		return fault.Field("files", "send at least one file in a part named files")
	}
	svc := s.deps.Imports
	ins := make([]importer.Input, 0, len(parts))
	for _, fh := range parts {
		in := importer.Input{Name: fh.Filename, Size: fh.Size}
		limit := svc.MaxBytes()
		if importer.IsArchiveName(fh.Filename) {
			limit *= 20
		}
		if fh.Size > limit {
			in.Refused = "the file is larger than the limit per document (import_max_bytes); it was not kept"
			ins = append(ins, in)
			continue
		}
		f, err := fh.Open()
		if err != nil {
			return fault.New(fault.ErrInvalid, "an uploaded part cannot be read")
		}
		in.Data, err = io.ReadAll(io.LimitReader(f, limit+1))
		_ = f.Close()
		if err != nil {
			return fault.New(fault.ErrInvalid, "an uploaded part cannot be read")
		}
		ins = append(ins, in)
	}
	job, err := svc.Submit(c.UserContext(), importer.ExpandInputs(ins, svc.MaxBytes()))
	if err != nil {
		return err
	}
	c.Location(c.BaseURL() + c.Path() + "/" + job.ID)
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": job.ID, "status": job.Status, "progress": job.Progress})
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
