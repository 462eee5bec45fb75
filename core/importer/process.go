package importer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/plugin"
	pluginfault "github.com/pfinni/pfinni/core/plugin/fault"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/sdk"
)

// ProgressFunc is told about every file as it is done, with the job's
// progress so far. It runs on the job's goroutine and must be quick.
type ProgressFunc func(p Progress, f File)

// Run imports ins now and returns when every file is done (the CLI). The
// job and documents are stored first; if ctx ends midway, the files not
// yet done stay pending and the job is released, so the next run or
// any core instance resumes it.
func (s *Service) Run(ctx context.Context, ins []Input, progress ProgressFunc) (*Job, error) {
	items := make([]intake, len(ins))
	for i, in := range ins {
		items[i] = s.intakeOf(in)
	}
	job, err := s.createJob(ctx, OriginCLI, items)
	if err != nil {
		return nil, err
	}
	perr := s.runNow(ctx, job.ID, progress)
	j, err := s.Job(context.WithoutCancel(ctx), job.ID)
	if perr != nil {
		return j, perr
	}
	return j, err
}

// Submit stores the job, its files and documents, and returns at once;
// the files are processed in the background as the caller (the actor in
// ctx), and the job can be followed with Job.
func (s *Service) Submit(ctx context.Context, ins []Input) (Job, error) {
	items := make([]intake, len(ins))
	for i, in := range ins {
		items[i] = s.intakeOf(in)
	}
	job, err := s.createJob(ctx, OriginAPI, items)
	if err != nil {
		return Job{}, err
	}
	s.startNow(ctx, job.ID)
	return job, nil
}

// parsed is a file after its parse stage.
type parsed struct {
	f      fileRow
	format string
	res    sdk.ImportResult
	reject string   // plain reason the document cannot be imported
	prior  *fileRow // the same content was imported before
	err    error    // technical failure: the job stops, the file stays pending
	// wait is the format whose importer is not in service (disabled or
	// still loading): the file stays pending, waiting (waiting.go).
	wait, waitDetail string
}

type task struct {
	f   fileRow
	out chan parsed
}

// process works through the pending files of a job whose queue job this
// instance holds (resume.go; ctx ends when that lease is lost): documents
// are parsed by Workers goroutines and applied one by one in file order
// (so results are the same as a sequential run), each file's result is
// committed in one transaction with the job's counters. It returns when the job is done or ctx ends, or when
// only files waiting for an importer are left (the job then stays
// running, its queue job done, and is resumed when the importers change).
func (s *Service) process(ctx context.Context, key string, progress ProgressFunc) error {
	for {
		changed := s.importersChanged()
		waited, err := s.processOnce(ctx, key, progress)
		if err != nil || waited == 0 {
			return err
		}
		select {
		case <-changed:
			continue // the importers changed meanwhile: try the waiting files again now
		default:
		}
		return nil
	}
}

// processOnce works through the job's pending files once; it returns how
// many are left waiting for an importer (the job is finished when none).
func (s *Service) processOnce(ctx context.Context, key string, progress ProgressFunc) (waited int, _ error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	files, err := s.loadFiles(ctx, key, true)
	if err != nil {
		return 0, err
	}
	job, err := s.loadJob(ctx, key)
	if err != nil {
		return 0, err
	}

	work := make(chan task)
	order := make(chan task, 2*s.opt.Workers)
	go func() {
		defer close(work)
		defer close(order)
		for _, f := range files {
			t := task{f: f, out: make(chan parsed, 1)}
			select {
			case order <- t:
			case <-ctx.Done():
				return
			}
			select {
			case work <- t:
			case <-ctx.Done():
				t.out <- parsed{f: f, err: ctx.Err()}
				return
			}
		}
	}()
	for range s.opt.Workers {
		go func() {
			for t := range work {
				t.out <- s.parse(ctx, t.f)
			}
		}()
	}

	// Apply: files go to ApplyWorkers appliers by the MRN of their first
	// record, so all files about one patient are applied one after the
	// other, in file order, and files about different patients in
	// parallel.
	jc := &jobCtx{key: key}
	var (
		mu      sync.Mutex
		prog    = Progress{Done: job.Total - len(files), Total: job.Total}
		stopErr error
	)
	stop := func(err error) {
		mu.Lock()
		if stopErr == nil {
			stopErr = err
		}
		mu.Unlock()
		cancel(nil) // stop the parsers and the other appliers too
	}
	shards := make([]chan parsed, s.opt.ApplyWorkers)
	var wg sync.WaitGroup
	for i := range shards {
		shards[i] = make(chan parsed, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range shards[i] {
				if ctx.Err() != nil {
					continue // drain
				}
				// Once applying starts, the file is finished even if ctx
				// ends, so a stop never leaves a patient written but its
				// file pending.
				actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
				f, err := s.finishFile(actx, jc, p)
				acancel()
				if err != nil {
					stop(err)
					continue
				}
				mu.Lock()
				prog.Done++
				if progress != nil {
					progress(prog, f)
				}
				mu.Unlock()
			}
		}()
	}
	for t := range order {
		p := <-t.out
		switch {
		case ctx.Err() != nil:
			stop(ctx.Err())
			continue
		case p.err != nil:
			stop(p.err)
			continue
		case p.wait != "":
			if err := s.markWaiting(ctx, p); err != nil {
				stop(err)
			}
			waited++
			continue
		}
		shards[shardOf(p, len(shards))] <- p
	}
	for _, c := range shards {
		close(c)
	}
	wg.Wait()
	if stopErr == nil && ctx.Err() != nil {
		stopErr = ctx.Err()
	}
	if stopErr != nil {
		return 0, fmt.Errorf("import job %s: %w", key, stopErr)
	}
	if waited > 0 {
		return waited, nil
	}
	return 0, s.finishJob(context.WithoutCancel(ctx), key)
}

func (s *Service) finishJob(ctx context.Context, key string) error {
	left, err := store.Query[int](ctx, s.d.DB, "RETURN count(SELECT id FROM import_file WHERE job = $key AND state = 'pending')", map[string]any{"key": key})
	if err != nil {
		return fmt.Errorf("finish import job %s: %w", key, err)
	}
	if left > 0 {
		return fmt.Errorf("finish import job %s: %d files still pending", key, left)
	}
	tally, err := s.tally(ctx, []string{key})
	if err != nil {
		return fmt.Errorf("finish import job %s: %w", key, err)
	}
	c := tally[key].counts
	keys, err := store.Query[[]string](ctx, s.d.DB, `UPDATE $job SET status = 'done', finished_at = time::now(),
		done = $done, counts = $counts WHERE status = 'running' RETURN VALUE record::id(id)`,
		map[string]any{"job": jobID(key), "done": tally[key].done, "counts": map[string]any{
			"created": c.Created, "updated": c.Updated, "unchanged": c.Unchanged, "rejected": c.Rejected,
			"needs_review": c.NeedsReview}})
	if err != nil {
		return fmt.Errorf("finish import job %s: %w", key, err)
	}
	if len(keys) == 1 {
		s.finished(ctx, key, c)
		return s.audit(ctx, "import.finish", "import_job", key, audit.OutcomeSuccess,
			fmt.Sprintf("created=%d updated=%d unchanged=%d rejected=%d", c.Created, c.Updated, c.Unchanged, c.Rejected))
	}
	return nil
}

// jobTally is a job's progress counted from its files.
type jobTally struct {
	done   int
	counts Counts
}

// tally counts the done files of jobs by result. Counting from the
// files (not counters on the job) lets files be committed in parallel
// without contending for the job's record.
func (s *Service) tally(ctx context.Context, keys []string) (map[string]jobTally, error) {
	type row struct {
		Job    string `json:"job"`
		Result string `json:"result"`
		N      int    `json:"n"`
	}
	rows, err := store.Query[[]row](ctx, s.d.DB, `SELECT job, result, count() AS n FROM import_file
		WHERE job IN $keys AND state = 'done' GROUP BY job, result`, map[string]any{"keys": keys})
	if err != nil {
		return nil, fmt.Errorf("count import files: %w", err)
	}
	out := map[string]jobTally{}
	for _, r := range rows {
		t := out[r.Job]
		t.done += r.N
		for range r.N {
			t.counts.add(r.Result)
		}
		out[r.Job] = t
	}
	return out, nil
}

// parse is a file's parse stage: the kept document is read, its format
// sniffed and the importer plugin asked for its records.
func (s *Service) parse(ctx context.Context, f fileRow) parsed {
	p := parsed{f: f}
	if ctx.Err() != nil {
		p.err = ctx.Err()
		return p
	}
	if f.Document == "" {
		p.reject = f.Detail
		if p.reject == "" {
			p.reject = "the document was not kept"
		}
		return p
	}
	if f.Waiting != "" && !s.importerServes(f.Waiting) {
		// Still nothing to import it with: no need to read it again.
		p.format, p.wait, p.waitDetail = f.Waiting, f.Waiting, f.Detail
		return p
	}
	if f.RetryOf == "" {
		prior, err := s.findPrior(ctx, f)
		if err != nil {
			p.err = err
			return p
		}
		if prior != nil {
			p.prior = prior
			return p
		}
	}
	content, err := s.content(ctx, f.Document)
	if errors.Is(err, ErrNotFound) {
		p.reject = "the kept document is missing from the database"
		return p
	}
	if err != nil {
		p.err = err
		return p
	}
	format, err := sniff(content)
	if err != nil {
		p.reject = err.Error()
		return p
	}
	p.format = format
	pctx, cancel := context.WithTimeout(ctx, s.opt.ParseTimeout)
	defer cancel()
	res, err := s.d.Importer.Import(pctx, sdk.ImportRequest{Format: format, Name: f.Name, Document: content, MaxBytes: int(s.opt.MaxBytes),
		Mapping: decodeMapping(f.Mapping)})
	if err != nil {
		if ctx.Err() != nil {
			p.err = ctx.Err()
			return p
		}
		if errors.Is(err, plugin.ErrNoPlugin) {
			// Never a reason to reject: the file waits for its importer.
			p.wait, p.waitDetail = format, waitDetail(format, err)
			return p
		}
		p.reject = importerReason(format, err)
		return p
	}
	p.res = res
	return p
}

// importerReason says in plain words why the importer refused or failed.
func importerReason(format string, err error) string {
	var se *sdk.Error
	switch {
	case errors.As(err, &se) && se.Code == sdk.CodeInvalidInput:
		return se.Message
	case errors.Is(err, plugin.ErrNoPlugin):
		return fmt.Sprintf("no importer plugin for %s is enabled; an admin can enable one on the plugins page, then retry this file", formatName(format))
	case errors.Is(err, context.DeadlineExceeded):
		return "the importer took too long on this document; retry it later or report it"
	}
	// The fault kind only: a plugin's error text (and a guest's stderr)
	// must not reach the file's detail (security review M6).
	return "the importer plugin failed on this document (" + pluginfault.Label(err) + "); it is kept in the quarantine — retry it later or report it"
}

func formatName(format string) string {
	switch format {
	case FormatCCDA:
		return "C-CDA"
	case FormatFHIRXML:
		return "FHIR XML"
	case FormatCSV:
		return "CSV"
	}
	return format
}

// content reads a kept document.
func (s *Service) content(ctx context.Context, doc string) ([]byte, error) {
	type row struct {
		Content []byte `json:"content"`
	}
	rows, err := store.Query[[]row](ctx, s.d.DB, "SELECT content FROM $doc", map[string]any{"doc": docID(doc)})
	if err != nil {
		return nil, fmt.Errorf("read document: %w", err)
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	return rows[0].Content, nil
}

// findPrior returns an earlier, successful import of the same content
// whose patients all still exist, or nil.
func (s *Service) findPrior(ctx context.Context, f fileRow) (*fileRow, error) {
	rows, err := store.Query[[]fileRow](ctx, s.d.DB, `SELECT *, record::id(id) AS key FROM import_file
		WHERE sha256 = $sha AND state = 'done' AND quarantined = false AND result != 'rejected' AND job != $job
		ORDER BY updated_at DESC LIMIT 1`, map[string]any{"sha": f.SHA256, "job": f.Job})
	if err != nil {
		return nil, fmt.Errorf("find earlier import: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	for _, id := range rows[0].PatientIDs {
		if _, err := s.d.Patients.Get(ctx, id); err != nil {
			if errors.Is(err, fault.ErrNotFound) {
				return nil, nil
			}
			return nil, fmt.Errorf("find earlier import: %w", err)
		}
	}
	return &rows[0], nil
}

// finishFile decides a file's result, audits it and commits it.
func (s *Service) finishFile(ctx context.Context, jc *jobCtx, p parsed) (File, error) {
	f := p.f
	var out fileOutcome
	switch {
	case p.prior != nil:
		out = fileOutcome{result: ResultUnchanged, records: p.prior.Records, problems: p.prior.Problems,
			patientIDs: p.prior.PatientIDs, format: p.prior.Format,
			detail: "the same document (same content) was imported before; nothing was changed"}
	case p.reject != "":
		out = fileOutcome{result: ResultRejected, detail: p.reject, format: p.format}
	default:
		var err error
		out, err = s.applyFile(ctx, jc, f, p.format, p.res)
		if err != nil {
			if errors.Is(err, fault.ErrUnavailable) {
				return File{}, err
			}
			s.log.Error("import file", "job", f.Job, "file", f.Key, "err", err)
			out = fileOutcome{result: ResultRejected, format: p.format,
				detail: "pfinni could not apply this document because of an internal error; it is kept in the quarantine — retry it later"}
		}
	}
	if out.problems == nil {
		out.problems = []Problem{}
	}
	if out.patientIDs == nil {
		out.patientIDs = []string{}
	}
	quarantined := out.result == ResultRejected || hasRejectedRecord(out.problems)
	outcome := audit.OutcomeSuccess
	if out.result == ResultRejected {
		outcome = audit.OutcomeFailure
	}
	if err := s.audit(ctx, "import.file", "import_file", f.Key, outcome,
		fmt.Sprintf("job=%s result=%s format=%s records=%d problems=%d", f.Job, out.result, out.format, out.records, len(out.problems))); err != nil {
		return File{}, err
	}
	var q strings.Builder
	q.WriteString(`BEGIN;
UPDATE $file SET state = 'done', result = $result, detail = $detail, records = $records, problems = $problems,
	patient_ids = $pids, format = $format, quarantined = $quarantined, waiting = '', attempts += 1, updated_at = time::now();
`)
	vars := map[string]any{"file": fileID(f.Key), "result": out.result, "detail": out.detail,
		"records": out.records, "problems": problemRows(out.problems), "pids": out.patientIDs, "format": out.format, "quarantined": quarantined}
	if f.Document != "" {
		// The document row itself is never rewritten (it holds the whole
		// original); its links to patients are rows of their own.
		if len(out.patientIDs) > 0 {
			links := make([]map[string]any, len(out.patientIDs))
			for i, pid := range out.patientIDs {
				links[i] = map[string]any{"id": store.RecordID("patient_document", pid+"_"+f.Document), "patient_id": pid,
					"document": f.Document, "name": baseName(f.Name), "format": out.format, "size": f.Size, "created_at": time.Now().UTC()}
			}
			q.WriteString("INSERT IGNORE INTO patient_document $links;\n")
			vars["links"] = links
		}
	}
	if f.RetryOf != "" {
		q.WriteString("UPDATE $retried SET quarantined = false, updated_at = time::now();\n")
		vars["retried"] = fileID(f.RetryOf)
	}
	q.WriteString("COMMIT;")
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		// Two files with the same content commit to the same document row.
		if err = s.d.DB.Exec(ctx, q.String(), vars); err == nil || !(errors.Is(err, store.ErrTxConflict) || errors.Is(err, store.ErrConflict)) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	if err != nil {
		return File{}, fmt.Errorf("commit import file: %w", err)
	}
	f.State, f.Result, f.Detail, f.Records, f.Problems, f.PatientIDs, f.Format, f.Quarantined =
		stateDone, out.result, out.detail, out.records, out.problems, out.patientIDs, out.format, quarantined
	f.Attempts++
	f.UpdatedAt = time.Now().UTC()
	return f.file(), nil
}

func hasRejectedRecord(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == sdk.SeverityError {
			return true
		}
	}
	return false
}

// problemRows spells out every field (the schema has no defaults inside
// array elements).
func problemRows(ps []Problem) []map[string]any {
	out := make([]map[string]any, len(ps))
	for i, p := range ps {
		out[i] = map[string]any{"element": p.Element, "message": p.Message, "severity": p.Severity, "record": p.Record}
	}
	return out
}

// shardOf picks the applier of a parsed file: by the MRN of its first
// record, so files about the same patient keep their order.
func shardOf(p parsed, n int) int {
	key := p.f.Key
	if len(p.res.Records) > 0 {
		key = strings.TrimSpace(p.res.Records[0].MRN)
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}
