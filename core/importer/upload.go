package importer

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/pfinni/pfinni/core/fault"
)

// UploadMaxFiles is the most files (archive entries included) one upload
// may hold.
const UploadMaxFiles = ArchiveMaxEntries

// UploadMaxBytes is the most an upload request may carry: 20 documents
// of import_max_bytes, or one archive of that size, plus room for the
// multipart framing.
func UploadMaxBytes(maxBytes int64) int64 { return archiveMax(maxBytes) + 1<<20 }

// FileMaxBytes is the most one uploaded file may weigh: import_max_bytes,
// or 20 times that for a .zip archive.
func FileMaxBytes(name string, maxBytes int64) int64 {
	if IsArchiveName(name) {
		return archiveMax(maxBytes)
	}
	return maxBytes
}

// ErrUploadTooLarge refuses an upload with more than UploadMaxFiles files.
var ErrUploadTooLarge = fault.Newf(fault.ErrTooLarge, "the upload holds more than %d files; send them in several uploads", UploadMaxFiles)

// Upload is one import being received: the API's streamed multipart
// upload hands it one file at a time (Add) and each document is stored
// as it arrives, archives entry by entry, so memory holds the file being
// read and at most batchBytes of documents not yet written — never the
// whole upload. Submit then creates the job like Service.Submit.
// An Upload is used by one goroutine.
type Upload struct {
	s      *Service
	items  []intake
	budget int64 // document bytes this upload may still bring in
	batch  []map[string]any
	size   int
}

// BeginUpload checks that the caller may import and starts an upload.
func (s *Service) BeginUpload(ctx context.Context) (*Upload, error) {
	if err := s.authorize(ctx, "import.create", "import_job", ""); err != nil {
		return nil, err
	}
	return &Upload{s: s, budget: ExpandedMax(s.opt.MaxBytes)}, nil
}

// Files is how many files the upload holds so far.
func (u *Upload) Files() int { return len(u.items) }

// Add takes one uploaded file: a document is kept (or in.Refused
// recorded), an archive is expanded and its entries kept one by one.
// All the documents of one upload together are at most ExpandedMax;
// what comes after is refused, with the reason, unread.
func (u *Upload) Add(ctx context.Context, in Input) error {
	if isArchive(in) {
		return expandZip(in.Name, in.Data, u.s.opt.MaxBytes, &u.budget, func(e Input) error { return u.add(ctx, e) })
	}
	if in.Refused == "" && int64(len(in.Data)) > u.budget {
		in = Input{Name: in.Name, Size: int64(len(in.Data)), Refused: "the upload brings more than the total accepted (20 × import_max_bytes); this file was not kept"}
	}
	u.budget -= int64(len(in.Data))
	return u.add(ctx, in)
}

func (u *Upload) add(ctx context.Context, in Input) error {
	if len(u.items) >= UploadMaxFiles {
		return ErrUploadTooLarge
	}
	it := u.s.intakeOf(in)
	if it.data != nil {
		format, _ := sniff(it.data)
		u.batch = append(u.batch, map[string]any{"id": docID(it.sha), "sha256": it.sha, "name": path.Base(it.name),
			"format": format, "size": it.size, "content": it.data, "created_at": time.Now().UTC()})
		u.size += len(it.data)
		it.data = nil // kept below; the job refers to it by document id
		if u.size >= batchBytes {
			if err := u.flush(ctx); err != nil {
				return err
			}
		}
	}
	u.items = append(u.items, it)
	return nil
}

// flush stores the documents received since the last flush.
func (u *Upload) flush(ctx context.Context) error {
	if len(u.batch) == 0 {
		return nil
	}
	err := u.s.d.DB.Exec(ctx, "INSERT IGNORE INTO source_document $rows", map[string]any{"rows": u.batch})
	u.batch, u.size = nil, 0
	if err != nil {
		return fmt.Errorf("import upload: keep documents: %w", err)
	}
	return nil
}

// Submit stores the job and its files, and returns at once; the files
// are processed in the background as the caller, as with Service.Submit.
func (u *Upload) Submit(ctx context.Context) (Job, error) {
	if err := u.flush(ctx); err != nil {
		return Job{}, err
	}
	job, err := u.s.createJob(ctx, OriginAPI, u.items)
	if err != nil {
		return Job{}, err
	}
	u.s.startNow(ctx, job.ID)
	return job, nil
}
