package api

import (
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/sdk"
)

// maxMappingBytes bounds the mapping form field.
const maxMappingBytes = 64 << 10

// uploadForm is POST /imports beyond its files: dry_run=true reads the
// one file and reports what importing it would do, writing nothing
// (importer.Service.DryRun); mapping (JSON: column header -> patient
// field, sdk.TabularFields, "" ignores the column) overrides a CSV's
// detected mapping. Both fields come before the files.
type uploadForm struct {
	up      *importer.Upload
	dryRun  bool
	mapping map[string]string
	file    *importer.Input // the dry run's file
	files   int
}

// Files is how many files the form holds so far.
func (f *uploadForm) Files() int { return f.up.Files() + f.files }

// Add takes one file: kept for the dry run, or handed to the upload.
func (f *uploadForm) Add(ctx context.Context, in importer.Input) error {
	if !f.dryRun {
		in.Mapping = f.mapping
		return f.up.Add(ctx, in)
	}
	f.files++
	if f.files > 1 {
		return importer.ErrDryRunFiles
	}
	in.Mapping = f.mapping
	f.file = &in
	return nil
}

// field reads the dry_run and mapping parts; handled is false for others.
func (f *uploadForm) field(part *multipart.Part) (handled bool, err error) {
	name := part.FormName()
	if name != "dry_run" && name != "mapping" {
		return false, nil
	}
	if f.Files() > 0 {
		return true, fault.Field(name, "send "+name+" before the files")
	}
	data, err := io.ReadAll(io.LimitReader(part, maxMappingBytes+1))
	if err != nil {
		return true, fault.New(fault.ErrInvalid, "the multipart body cannot be read")
	}
	if name == "dry_run" {
		f.dryRun, err = strconv.ParseBool(string(data))
		if err != nil {
			return true, fault.Field("dry_run", "must be true or false")
		}
		return true, nil
	}
	if len(data) > maxMappingBytes {
		return true, fault.Field("mapping", "is too long")
	}
	if len(data) == 0 {
		return true, nil
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return true, fault.Field("mapping", `must be a JSON object of column header to field, e.g. {"Surname": "last_name"}`)
	}
	for h, field := range m {
		if field != "" && !slices.Contains(sdk.TabularFields, field) {
			return true, fault.Field("mapping", "column "+strconv.Quote(h)+" is mapped to an unknown field; use one of the fields the dry run lists")
		}
	}
	f.mapping = m
	return true, nil
}

// dryRunImport answers a dry_run=true upload with 200 and the report.
func (s *Server) dryRunImport(c *fiber.Ctx, f *uploadForm) error {
	res, err := s.deps.Imports.DryRun(c.UserContext(), *f.file)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// commitImport answers POST /imports/{id}/commit: the file of the dry
// run {id} is imported for real, with the same mapping, as a job (202,
// like an upload); the dry run is then gone.
func (s *Server) commitImport(c *fiber.Ctx) error {
	job, err := s.deps.Imports.Commit(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Location(c.BaseURL() + s.cfg.BasePath + "/api/v1/imports/" + job.ID)
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": job.ID, "status": job.Status, "progress": job.Progress})
}
