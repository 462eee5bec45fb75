package importer

import (
	"time"
)

// File results. Every file ends with exactly one (or ResultNeedsReview,
// identity.go: no record applied, at least one waits for review).
const (
	ResultCreated   = "created"   // at least one new patient
	ResultUpdated   = "updated"   // no new patient, at least one changed
	ResultUnchanged = "unchanged" // nothing to change (or the same content was imported before)
	ResultRejected  = "rejected"  // nothing applied; the file is in the quarantine
)

// Job statuses.
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// File states.
const (
	statePending = "pending"
	stateDone    = "done"
)

// Origins of a job.
const (
	OriginCLI   = "cli"
	OriginAPI   = "api"
	OriginRetry = "retry"
)

// Problem is one fault found in a file, in plain words: the element of
// the document (or the pfinni field) and what was wrong. It never
// carries a value from the document.
type Problem struct {
	Element  string `json:"element"`
	Message  string `json:"message"`
	Severity string `json:"severity,omitempty"` // error | warning
	// Record locates the record inside a document that holds several
	// (a FHIR Bundle entry), without PHI.
	Record string `json:"record,omitempty"`
}

// File is one file of an import job and, once done, its result.
type File struct {
	ID     string `json:"id"`
	JobID  string `json:"job_id"`
	Seq    int    `json:"seq"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Format string `json:"format"`
	State  string `json:"state"`  // pending | done
	Result string `json:"result"` // "" while pending
	// Waiting is the import format a pending file waits for while no
	// importer plugin for it is in service (disabled, or still loading);
	// Detail then says so ("waiting for the C-CDA importer ..."). The file
	// is imported by itself as soon as the importer is ready; it is
	// never rejected for this.
	Waiting string `json:"waiting,omitempty"`
	// Detail says in plain words why a file was rejected, or what
	// happened when that is not obvious from Result.
	Detail     string    `json:"detail,omitempty"`
	Records    int       `json:"records"`
	Problems   []Problem `json:"problems"`
	PatientIDs []string  `json:"patient_ids"`
	// DocumentID is the kept original (its sha256), "" when the file was
	// not kept (larger than the limit, or refused inside an archive).
	DocumentID  string    `json:"document_id,omitempty"`
	Quarantined bool      `json:"quarantined"`
	RetryOf     string    `json:"retry_of,omitempty"`
	Attempts    int       `json:"attempts"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Progress counts the files of a job that are done.
type Progress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// Counts are a job's files by result.
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Rejected  int `json:"rejected"`
	// NeedsReview counts the files waiting in the identity review queue.
	NeedsReview int `json:"needs_review"`
}

func (c *Counts) add(result string) {
	switch result {
	case ResultCreated:
		c.Created++
	case ResultUpdated:
		c.Updated++
	case ResultUnchanged:
		c.Unchanged++
	case ResultRejected:
		c.Rejected++
	case ResultNeedsReview:
		c.NeedsReview++
	}
}

// Job is one import: a set of files processed together.
type Job struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"` // running | done | failed
	Origin     string     `json:"origin"` // cli | api | retry
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Progress   Progress   `json:"progress"`
	Counts     Counts     `json:"counts"`
	Error      string     `json:"error,omitempty"`
	// Waiting counts the pending files waiting for an importer plugin;
	// Detail then says which ("2 files waiting for the C-CDA importer").
	Waiting int    `json:"waiting"`
	Detail  string `json:"detail,omitempty"`
	// Files is filled by Service.Job, in the order they were given.
	Files []File `json:"files,omitempty"`
}

// Input is one document handed to an import: its name (a path, or
// "archive.zip/inner/path.xml") and its bytes. Refused is set instead
// of Data for a file that was refused before it was read (larger than
// the limit, a hostile archive entry); it says why.
type Input struct {
	Name    string
	Data    []byte
	Size    int64
	Refused string
	// Mapping overrides a tabular importer's column mapping (CSV:
	// header text -> patient field, see sdk.TabularFields); kept with
	// the file so a resumed or retried import reads it the same way.
	Mapping map[string]string
}

// Document is a kept original document.
type Document struct {
	ID         string    `json:"id"` // sha256 of the content
	Name       string    `json:"name"`
	Format     string    `json:"format"`
	Size       int64     `json:"size"`
	PatientIDs []string  `json:"patient_ids"`
	CreatedAt  time.Time `json:"created_at"`
	// Content is the document as it was imported (any encoding); empty
	// in listings.
	Content []byte `json:"-"`
}
