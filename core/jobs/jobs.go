// Package jobs is pfinni's durable job queue, stored in SurrealDB (table
// job, schema in core/store/schema/60_jobs.surql).
//
// A job is a kind, JSON arguments, a time to run at, a priority and a
// number of attempts. Any core instance on the database may run it:
// workers claim jobs with a lease (a conditional UPDATE whose WHERE
// clause is the compare-and-swap), extend the lease while the handler
// runs, and write the outcome only if they still hold the lease (the
// attempt number is the fencing token). A job whose instance died is
// taken again by any instance once its lease has expired (lease 30 s,
// heartbeat 10 s by default: within 40 s). Failed attempts are retried
// with exponential backoff and jitter, then the job is dead with its
// last error, until an admin retries it. Cron schedules enqueue exactly
// one job per tick across all instances.
//
// Delivery is at least once: a handler may run again after a crash, so
// handlers must be idempotent (use the job id, or a key in the
// arguments, as the idempotency key of their side effect). Arguments and
// errors are stored and shown to admins: they carry record ids, never
// patient names or other identifiers.
//
// Core packages import jobs to enqueue work and register handlers;
// core/app builds the one Queue of a process and starts it when serving.
// A Queue is safe for concurrent use once built; Register and Schedule
// must be called before Start.
package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// State is where a job is in its life.
type State string

// The states of a job.
const (
	// Queued jobs wait for their run_at.
	Queued State = "queued"
	// Running jobs are leased by a worker.
	Running State = "running"
	// Succeeded jobs are done.
	Succeeded State = "succeeded"
	// Failed jobs failed an attempt and wait for their retry at run_at.
	Failed State = "failed"
	// Dead jobs failed their last attempt; an admin may retry them.
	Dead State = "dead"
)

// States lists every state, in life order.
var States = []State{Queued, Running, Succeeded, Failed, Dead}

// Valid reports whether s is one of States.
func (s State) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// Errors callers decide on.
var (
	// ErrNotDead refuses to retry a job that is not dead.
	ErrNotDead = fault.New(fault.ErrConflict, "only a dead job can be retried")
	// ErrNotFound means no job has that id.
	ErrNotFound = fault.New(fault.ErrNotFound, "no such job")
	// ErrStopped refuses work on a queue that was stopped.
	ErrStopped = errors.New("job queue stopped")
)

// Job is one stored job as a handler and the admin API see it.
type Job struct {
	ID          string
	Kind        string
	Args        json.RawMessage
	State       State
	Priority    int
	Attempts    int // attempts started so far; inside a handler, this attempt's number (1-based)
	MaxAttempts int
	RunAt       time.Time
	UniqueKey   string
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	FinishedAt  *time.Time
}

// Attempt is the number of the running attempt (1 for the first run).
func (j Job) Attempt() int { return j.Attempts }

// Bind decodes the job's JSON arguments into v.
func (j Job) Bind(v any) error {
	if err := json.Unmarshal(j.Args, v); err != nil {
		return fmt.Errorf("decode arguments of job %s (%s): %w", j.ID, j.Kind, err)
	}
	return nil
}

// row is a job record as SurrealDB returns it (see jobFields).
type row struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Args        string     `json:"args"`
	State       string     `json:"state"`
	Priority    int        `json:"priority"`
	Attempts    int        `json:"attempts"`
	MaxAttempts int        `json:"max_attempts"`
	RunAt       time.Time  `json:"run_at"`
	UniqueKey   *string    `json:"unique_key"`
	LastError   string     `json:"last_error"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	FinishedAt  *time.Time `json:"finished_at"`
}

// jobFields is the projection every query returning jobs uses.
const jobFields = `record::id(id) AS id, kind, args, state, priority, attempts, max_attempts, run_at,
	unique_key, last_error, created_at, updated_at, finished_at`

func (r row) job() Job {
	j := Job{ID: r.ID, Kind: r.Kind, Args: json.RawMessage(r.Args), State: State(r.State), Priority: r.Priority,
		Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, RunAt: r.RunAt.UTC(), LastError: r.LastError,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.UniqueKey != nil {
		j.UniqueKey = *r.UniqueKey
	}
	if r.FinishedAt != nil {
		t := r.FinishedAt.UTC()
		j.FinishedAt = &t
	}
	if len(j.Args) == 0 {
		j.Args = json.RawMessage("{}")
	}
	return j
}

func jobID(key string) any { return store.RecordID("job", key) }

// validKey accepts what a job id can be (SurrealDB's generated ids).
var validKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// validKind accepts kind names like "import.file" or "alerts:daily".
var validKind = regexp.MustCompile(`^[a-z][a-z0-9_.:-]{0,63}$`)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// marshalObject turns v into a JSON object's fields.
func marshalObject(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode arguments: %w", err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("arguments of a scheduled job must be a JSON object: %w", err)
	}
	return m, nil
}

// surrealDuration writes d as a SurrealQL duration literal ("1500ms");
// Go's "1.5s" is not one.
func surrealDuration(d time.Duration) string { return fmt.Sprintf("%dms", max(d.Milliseconds(), 0)) }
