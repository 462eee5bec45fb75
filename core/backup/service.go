package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// Ext is a backup file's extension.
const Ext = ".pfbak"

// Auditor records that a backup was made (*audit.Log).
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Options configure a Service.
type Options struct {
	// Dir is where backups are written and listed (created 0700).
	Dir string
	// Keep is how many backups Create leaves in Dir (the newest); 0
	// keeps all.
	Keep int
	// Export is passed to Export (key, key files, version).
	Export ExportOptions
	// Audit records every backup made; nil records nothing (tests).
	Audit Auditor
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service makes backups into a directory, prunes it to a retention
// count and lists it.
type Service struct {
	db   *store.DB
	opts Options
	mu   sync.Mutex // one backup at a time per process
}

// NewService returns a Service writing db's backups to opts.Dir.
func NewService(db *store.DB, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Export.Now == nil {
		opts.Export.Now = opts.Now
	}
	return &Service{db: db, opts: opts}
}

// Info is one backup file as the admin page lists it.
type Info struct {
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
	Version   string    `json:"version"`
	Encrypted bool      `json:"encrypted"`
	Records   int       `json:"records"`
	AuditSeq  int64     `json:"audit_seq"`
	Content   string    `json:"content_sha256"`
	// KeysIncluded is false when the operator must keep the key files
	// (an unencrypted backup).
	KeysIncluded bool `json:"keys_included"`
	// Error says why the file could not be read as a backup.
	Error string `json:"error,omitempty"`
}

// Dir is the folder backups go to.
func (s *Service) Dir() string { return s.opts.Dir }

// allowed admits admins and the system (CLI, scheduled job).
func allowed(ctx context.Context) error {
	switch actor.From(ctx).Role {
	case actor.RoleAdmin, actor.RoleSystem:
		return nil
	}
	return fault.New(fault.ErrForbidden, "only admins may manage backups")
}

// Create writes a new backup into Dir, named for its time, removes the
// oldest beyond Keep, and audits the backup (backup.create, no PHI).
func (s *Service) Create(ctx context.Context) (Info, error) {
	if err := allowed(ctx); err != nil {
		return Info{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(s.opts.Dir, 0o700); err != nil {
		return Info{}, fmt.Errorf("create backup: %w", err)
	}
	name := "pfinni-" + s.opts.Now().UTC().Format("20060102T150405.000Z") + Ext
	name = strings.Replace(name, ".", "", 1) // pfinni-20261203T170000123Z.pfbak
	b, err := s.write(ctx, filepath.Join(s.opts.Dir, name))
	if err != nil {
		return Info{}, err
	}
	if err := s.prune(); err != nil {
		return Info{}, err
	}
	return b, nil
}

// WriteFile writes a backup to path (atomically: a partial file never
// has the name) and audits it; Dir and Keep play no part.
func (s *Service) WriteFile(ctx context.Context, path string) (Info, error) {
	if err := allowed(ctx); err != nil {
		return Info{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(ctx, path)
}

func (s *Service) write(ctx context.Context, path string) (Info, error) {
	var m Manifest
	err := writeFileAtomic(filepath.Dir(path), filepath.Base(path), func(w io.Writer) error {
		var err error
		m, err = Export(ctx, s.db, w, s.opts.Export)
		return err
	})
	outcome := audit.OutcomeSuccess
	if err != nil {
		outcome = audit.OutcomeError
	}
	if aerr := s.record(ctx, "backup.create", filepath.Base(path), outcome, m); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return Info{}, fmt.Errorf("create backup: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Info{}, fmt.Errorf("create backup: %w", err)
	}
	return info(filepath.Base(path), fi.Size(), m), nil
}

func (s *Service) record(ctx context.Context, action, name, outcome string, m Manifest) error {
	if s.opts.Audit == nil {
		return nil
	}
	return s.opts.Audit.Record(ctx, audit.Event{Action: action, Resource: "backup", Record: name, Outcome: outcome,
		Detail: fmt.Sprintf("%d records, audit seq %d, encrypted %t", records(m), m.AuditHead.Seq, m.Encrypted)})
}

func records(m Manifest) int {
	n := 0
	for _, d := range m.Tables {
		n += d.Count
	}
	return n
}

func info(name string, size int64, m Manifest) Info {
	keys := m.Encrypted
	for _, k := range m.KeyFiles {
		keys = keys && k.Included
	}
	return Info{Name: name, Size: size, CreatedAt: m.CreatedAt, Version: m.Version, Encrypted: m.Encrypted,
		Records: records(m), AuditSeq: m.AuditHead.Seq, Content: m.Content, KeysIncluded: keys}
}

// List returns the backups in Dir, newest first. A file that is not a
// readable backup is listed with its Error.
func (s *Service) List(ctx context.Context) ([]Info, error) {
	if err := allowed(ctx); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.opts.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return []Info{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	out := []Info{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), Ext) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		m, err := Inspect(filepath.Join(s.opts.Dir, e.Name()))
		if err != nil {
			out = append(out, Info{Name: e.Name(), Size: fi.Size(), CreatedAt: fi.ModTime().UTC(), Error: err.Error()})
			continue
		}
		out = append(out, info(e.Name(), fi.Size(), m))
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Error == "") != (out[j].Error == "") {
			return out[i].Error == "" // damaged files last
		}
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].Name > out[j].Name
	})
	return out, nil
}

// prune removes the oldest backups beyond Keep (by name: names sort by
// time).
func (s *Service) prune() error {
	if s.opts.Keep <= 0 {
		return nil
	}
	entries, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		return fmt.Errorf("prune backups: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasPrefix(e.Name(), "pfinni-") && strings.HasSuffix(e.Name(), Ext) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for len(names) > s.opts.Keep {
		if err := os.Remove(filepath.Join(s.opts.Dir, names[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("prune backups: %w", err)
		}
		names = names[1:]
	}
	return nil
}
