package importer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/store"
)

// Waiting for an importer. A file whose format has no importer plugin in
// service — the plugin is disabled, or still loading while the server
// starts — is never rejected for that: it stays pending with Waiting set
// to its format and a Detail saying what it waits for, the rest of the
// job goes on, and the job stays running while its queue job ends. When
// the plugins in service change (ImporterWatch.Changed: the importer
// became ready or an admin enabled it), Start's loop resumes such jobs
// at once (a new queue job); the periodic resume covers instances that
// missed the change.

// ImporterWatch is optionally implemented by Deps.Importer (the plugin
// registry does): which formats have an importer in service now, and a
// channel closed at the next change of that.
type ImporterWatch interface {
	ImportFormats() []string
	Changed() <-chan struct{}
}

var _ ImporterWatch = (*plugin.Registry)(nil)

// importersChanged returns the importer's change channel, or nil (never
// ready) when it cannot tell.
func (s *Service) importersChanged() <-chan struct{} {
	if w, ok := s.d.Importer.(ImporterWatch); ok {
		return w.Changed()
	}
	return nil
}

// importerServes reports whether an importer for format is in service
// (true when the importer cannot tell: then only a call finds out).
func (s *Service) importerServes(format string) bool {
	if w, ok := s.d.Importer.(ImporterWatch); ok {
		return slices.Contains(w.ImportFormats(), format)
	}
	return true
}

// waitDetail says in plain words what a file waits for.
func waitDetail(format string, err error) string {
	if errors.Is(err, plugin.ErrLoading) {
		return fmt.Sprintf("waiting for the %s importer, which is still loading; the file is imported as soon as it is ready", formatName(format))
	}
	return fmt.Sprintf("waiting for the %s importer, which is not enabled; the file is imported as soon as an admin enables it on the plugins page", formatName(format))
}

// markWaiting records that a pending file waits for its importer (only
// when that changes, so resumed jobs do not rewrite their files).
func (s *Service) markWaiting(ctx context.Context, p parsed) error {
	if p.f.Waiting == p.wait && p.f.Detail == p.waitDetail {
		return nil
	}
	err := s.d.DB.Exec(ctx, `UPDATE $file SET waiting = $w, format = $w, detail = $d, updated_at = time::now() WHERE state = 'pending'`,
		map[string]any{"file": fileID(p.f.Key), "w": p.wait, "d": p.waitDetail})
	if err != nil {
		return fmt.Errorf("mark import file waiting: %w", err)
	}
	return nil
}

// onlyWaiting reports whether every pending file of an import waits for
// an importer that is still not in service (Resume then leaves it until
// the importers change). An import with no pending file is not waiting:
// it needs finishing.
func (s *Service) onlyWaiting(ctx context.Context, key string) (bool, error) {
	formats, err := store.Query[[]string](ctx, s.d.DB, `SELECT VALUE waiting FROM import_file WHERE job = $key AND state = 'pending'`,
		map[string]any{"key": key})
	if err != nil {
		return false, fmt.Errorf("find waiting import files: %w", err)
	}
	for _, f := range formats {
		if f == "" || s.importerServes(f) {
			return false, nil
		}
	}
	return len(formats) > 0, nil
}

// waitingFiles counts the waiting files of jobs, by job and format.
func (s *Service) waitingFiles(ctx context.Context, keys []string) (map[string]map[string]int, error) {
	type row struct {
		Job     string `json:"job"`
		Waiting string `json:"waiting"`
		N       int    `json:"n"`
	}
	rows, err := store.Query[[]row](ctx, s.d.DB, `SELECT job, waiting, count() AS n FROM import_file
		WHERE job IN $keys AND state = 'pending' AND waiting != '' GROUP BY job, waiting`, map[string]any{"keys": keys})
	if err != nil {
		return nil, fmt.Errorf("count waiting import files: %w", err)
	}
	out := map[string]map[string]int{}
	for _, r := range rows {
		if out[r.Job] == nil {
			out[r.Job] = map[string]int{}
		}
		out[r.Job][r.Waiting] += r.N
	}
	return out, nil
}

// setWaiting fills Waiting and Detail from the waiting files by format.
func (j *Job) setWaiting(byFormat map[string]int) {
	j.Waiting = 0
	var names []string
	for f, n := range byFormat {
		j.Waiting += n
		names = append(names, formatName(f))
	}
	if j.Waiting == 0 {
		return
	}
	sort.Strings(names)
	files := "files"
	if j.Waiting == 1 {
		files = "file"
	}
	importers := "importer"
	if len(names) > 1 {
		importers = "importers"
	}
	j.Detail = fmt.Sprintf("%d %s waiting for the %s %s", j.Waiting, files, strings.Join(names, " and "), importers)
}
