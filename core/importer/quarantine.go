package importer

import (
	"context"
	"fmt"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Quarantine lists the files that are kept with their reason because
// they (or some of their records) could not be imported, newest first.
// A successful retry takes a file out.
func (s *Service) Quarantine(ctx context.Context, limit int) ([]File, error) {
	if err := s.authorize(ctx, "import.read", "import_file", ""); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := store.Query[[]fileRow](ctx, s.d.DB, `SELECT *, record::id(id) AS key FROM import_file
		WHERE quarantined = true AND state = 'done' ORDER BY updated_at DESC LIMIT $n`, map[string]any{"n": limit})
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	out := make([]File, len(rows))
	for i, r := range rows {
		out[i] = r.file()
	}
	return out, nil
}

// ErrNotQuarantined: only files in the quarantine can be retried.
var ErrNotQuarantined = fault.New(fault.ErrConflict, "this file is not in the quarantine (it was imported, or retried already)")

// ErrNotKept: a file refused before it was read has no document to retry.
var ErrNotKept = fault.New(fault.ErrInvalid, "this file was refused before it was read, so there is nothing kept to retry; import the file again")

// Retry imports a quarantined file again from its kept document, as a
// new job of one file (done when Retry returns). The earlier attempt
// leaves the quarantine; if the retry is rejected again, the new attempt
// takes its place there.
func (s *Service) Retry(ctx context.Context, fileKey string) (*Job, error) {
	if err := s.authorize(ctx, "import.retry", "import_file", fileKey); err != nil {
		return nil, err
	}
	f, err := s.loadFile(ctx, fileKey)
	if err != nil {
		return nil, err
	}
	switch {
	case !f.Quarantined || f.State != stateDone:
		return nil, fmt.Errorf("retry import file: %w", ErrNotQuarantined)
	case f.Document == "":
		return nil, fmt.Errorf("retry import file: %w", ErrNotKept)
	}
	job, err := s.createJob(ctx, OriginRetry, []intake{{name: f.Name, size: f.Size, sha: f.SHA256, document: f.Document, retryOf: f.Key, mapping: f.Mapping}})
	if err != nil {
		return nil, err
	}
	if err := s.runNow(ctx, job.ID, nil); err != nil {
		return nil, err
	}
	return s.Job(ctx, job.ID)
}
