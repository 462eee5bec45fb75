package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// jobRow is an import_job record.
type jobRow struct {
	Key         string     `json:"key"`
	Status      string     `json:"status"`
	Origin      string     `json:"origin"`
	CreatedBy   string     `json:"created_by"`
	CreatedRole string     `json:"created_role"`
	CreatedAt   time.Time  `json:"created_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	Total       int        `json:"total"`
	Done        int        `json:"done"`
	Counts      Counts     `json:"counts"`
	Error       string     `json:"error"`
}

func (r jobRow) job() Job {
	j := Job{ID: r.Key, Status: r.Status, Origin: r.Origin, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(),
		Progress: Progress{Done: r.Done, Total: r.Total}, Counts: r.Counts, Error: r.Error}
	if r.FinishedAt != nil {
		t := r.FinishedAt.UTC()
		j.FinishedAt = &t
	}
	return j
}

// fileRow is an import_file record.
type fileRow struct {
	Key         string    `json:"key"`
	Job         string    `json:"job"`
	Seq         int       `json:"seq"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Format      string    `json:"format"`
	State       string    `json:"state"`
	Result      string    `json:"result"`
	Detail      string    `json:"detail"`
	Waiting     string    `json:"waiting"`
	Records     int       `json:"records"`
	Problems    []Problem `json:"problems"`
	PatientIDs  []string  `json:"patient_ids"`
	Document    string    `json:"document"`
	Quarantined bool      `json:"quarantined"`
	RetryOf     string    `json:"retry_of"`
	Mapping     string    `json:"mapping"` // Input.Mapping as JSON, "" for none
	Attempts    int       `json:"attempts"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func (r fileRow) file() File {
	f := File{ID: r.Key, JobID: r.Job, Seq: r.Seq, Name: r.Name, Size: r.Size, SHA256: r.SHA256, Format: r.Format,
		State: r.State, Result: r.Result, Detail: r.Detail, Waiting: r.Waiting, Records: r.Records, Problems: r.Problems,
		PatientIDs: r.PatientIDs, DocumentID: r.Document, Quarantined: r.Quarantined, RetryOf: r.RetryOf,
		Attempts: r.Attempts, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if f.Problems == nil {
		f.Problems = []Problem{}
	}
	if f.PatientIDs == nil {
		f.PatientIDs = []string{}
	}
	return f
}

func jobID(key string) models.RecordID  { return store.RecordID("import_job", key) }
func fileID(key string) models.RecordID { return store.RecordID("import_file", key) }
func docID(sha string) models.RecordID  { return store.RecordID("source_document", sha) }

// intake is one file as it enters a job.
type intake struct {
	name     string
	size     int64
	sha      string
	data     []byte // nil when the document is already kept (retry) or refused
	document string // kept document id ("" when refused)
	refused  string
	retryOf  string
	mapping  string // Input.Mapping as JSON (csv.go)
}

func (s *Service) intakeOf(in Input) intake {
	it := intake{name: in.Name, size: in.Size, refused: in.Refused, mapping: encodeMapping(in.Mapping)}
	if it.name == "" {
		it.name = "unnamed"
	}
	if it.refused != "" {
		return it
	}
	it.size = int64(len(in.Data))
	if it.size == 0 {
		it.refused = "the file is empty"
		return it
	}
	if it.size > s.opt.MaxBytes {
		it.refused = tooLarge(it.size, s.opt.MaxBytes)
		return it
	}
	sum := sha256.Sum256(in.Data)
	it.sha = hex.EncodeToString(sum[:])
	it.data = in.Data
	it.document = it.sha
	return it
}

// batchBytes bounds one INSERT of kept documents.
const batchBytes = 8 << 20

// createJob stores the job, its files and every document before any work
// starts, so a crash at any later point loses nothing. The caller then
// runs it on the queue (resume.go); an import left without a queue job
// by a crash in between gets one from the next Resume.
func (s *Service) createJob(ctx context.Context, origin string, items []intake) (Job, error) {
	if err := s.authorize(ctx, "import.create", "import_job", ""); err != nil {
		return Job{}, err
	}
	if len(items) == 0 {
		return Job{}, fault.New(fault.ErrInvalid, "no files to import")
	}
	now := time.Now().UTC()
	key := newID("j")
	// 1. The documents (deduplicated by content: the record id is the hash).
	var batch []map[string]any
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.d.DB.Exec(ctx, "INSERT IGNORE INTO source_document $rows", map[string]any{"rows": batch})
		batch, size = nil, 0
		if err != nil {
			return fmt.Errorf("create import job: keep documents: %w", err)
		}
		return nil
	}
	for _, it := range items {
		if it.data == nil {
			continue
		}
		format, _ := sniff(it.data)
		batch = append(batch, map[string]any{"id": docID(it.sha), "sha256": it.sha, "name": path.Base(it.name),
			"format": format, "size": it.size, "content": it.data, "created_at": now})
		size += len(it.data)
		if size >= batchBytes {
			if err := flush(); err != nil {
				return Job{}, err
			}
		}
	}
	if err := flush(); err != nil {
		return Job{}, err
	}
	// 2. The files, pending.
	rows := make([]map[string]any, 0, min(len(items), 500))
	for i, it := range items {
		rows = append(rows, map[string]any{"id": fileID(newID("f")), "job": key, "seq": i + 1, "name": it.name,
			"size": it.size, "sha256": it.sha, "state": statePending, "detail": it.refused, "document": it.document,
			"retry_of": it.retryOf, "mapping": it.mapping, "created_at": now, "updated_at": now})
		if len(rows) == 500 || i == len(items)-1 {
			if err := s.d.DB.Exec(ctx, "INSERT INTO import_file $rows", map[string]any{"rows": rows}); err != nil {
				return Job{}, fmt.Errorf("create import job: store files: %w", err)
			}
			rows = rows[:0]
		}
	}
	// 3. The job. Files without a job row are never shown, so a crash
	// before this point leaves nothing half-made. (lease_owner and
	// lease_until are left from before imports ran on the job queue,
	// which holds their lease now; the schema still requires the time.)
	a := actor.From(ctx)
	err := s.d.DB.Exec(ctx, `CREATE $job SET status = 'running', origin = $origin, created_by = $by, created_role = $role,
		created_at = $now, total = $total, lease_until = time::now()`,
		map[string]any{"job": jobID(key), "origin": origin, "by": a.UserID, "role": string(a.Role), "now": now,
			"total": len(items)})
	if err != nil {
		return Job{}, fmt.Errorf("create import job: %w", err)
	}
	if err := s.audit(ctx, "import.create", "import_job", key, audit.OutcomeSuccess, fmt.Sprintf("origin=%s files=%d", origin, len(items))); err != nil {
		return Job{}, err
	}
	return Job{ID: key, Status: StatusRunning, Origin: origin, CreatedBy: a.UserID, CreatedAt: now, Progress: Progress{Total: len(items)}}, nil
}

func (s *Service) loadJob(ctx context.Context, key string) (jobRow, error) {
	rows, err := store.Query[[]jobRow](ctx, s.d.DB, "SELECT *, record::id(id) AS key FROM $job", map[string]any{"job": jobID(key)})
	if err != nil {
		return jobRow{}, fmt.Errorf("load import job: %w", err)
	}
	if len(rows) == 0 {
		return jobRow{}, fmt.Errorf("import job %q: %w", key, ErrNotFound)
	}
	return rows[0], nil
}

func (s *Service) loadFiles(ctx context.Context, key string, pendingOnly bool) ([]fileRow, error) {
	q := "SELECT *, record::id(id) AS key FROM import_file WHERE job = $key ORDER BY seq"
	if pendingOnly {
		q = "SELECT *, record::id(id) AS key FROM import_file WHERE job = $key AND state = 'pending' ORDER BY seq"
	}
	rows, err := store.Query[[]fileRow](ctx, s.d.DB, q, map[string]any{"key": key})
	if err != nil {
		return nil, fmt.Errorf("load import files: %w", err)
	}
	return rows, nil
}

func (s *Service) loadFile(ctx context.Context, key string) (fileRow, error) {
	rows, err := store.Query[[]fileRow](ctx, s.d.DB, "SELECT *, record::id(id) AS key FROM $f", map[string]any{"f": fileID(key)})
	if err != nil {
		return fileRow{}, fmt.Errorf("load import file: %w", err)
	}
	if len(rows) == 0 {
		return fileRow{}, fmt.Errorf("import file %q: %w", key, ErrNotFound)
	}
	return rows[0], nil
}

// Job returns a job with its files, in the order they were given.
func (s *Service) Job(ctx context.Context, id string) (*Job, error) {
	if err := s.authorize(ctx, "import.read", "import_job", id); err != nil {
		return nil, err
	}
	r, err := s.loadJob(ctx, id)
	if err != nil {
		return nil, err
	}
	files, err := s.loadFiles(ctx, id, false)
	if err != nil {
		return nil, err
	}
	j := r.job()
	j.Files = make([]File, len(files))
	j.Counts, j.Progress.Done = Counts{}, 0
	waiting := map[string]int{}
	for i, f := range files {
		j.Files[i] = f.file()
		switch {
		case f.State == stateDone:
			j.Progress.Done++
			j.Counts.add(f.Result)
		case f.Waiting != "":
			waiting[f.Waiting]++
		}
	}
	j.setWaiting(waiting)
	return &j, nil
}

// Jobs returns the most recent jobs, newest first, without their files.
func (s *Service) Jobs(ctx context.Context, limit int) ([]Job, error) {
	if err := s.authorize(ctx, "import.read", "import_job", ""); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := store.Query[[]jobRow](ctx, s.d.DB, "SELECT *, record::id(id) AS key FROM import_job ORDER BY created_at DESC LIMIT $n", map[string]any{"n": limit})
	if err != nil {
		return nil, fmt.Errorf("list import jobs: %w", err)
	}
	var running []string
	for _, r := range rows {
		if r.Status == StatusRunning {
			running = append(running, r.Key)
		}
	}
	tally := map[string]jobTally{}
	waiting := map[string]map[string]int{}
	if len(running) > 0 {
		if tally, err = s.tally(ctx, running); err != nil {
			return nil, err
		}
		if waiting, err = s.waitingFiles(ctx, running); err != nil {
			return nil, err
		}
	}
	out := make([]Job, len(rows))
	for i, r := range rows {
		out[i] = r.job()
		if t, ok := tally[r.Key]; ok {
			out[i].Progress.Done, out[i].Counts = t.done, t.counts
		}
		out[i].setWaiting(waiting[r.Key])
	}
	return out, nil
}
