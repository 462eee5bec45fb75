package check

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runRoadmap(t *testing.T, tasks, roadmap string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(), "scripts", "roadmap.sh"), args...)
	cmd.Env = append(os.Environ(), "TASKS="+tasks, "ROADMAP="+roadmap)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The roadmap's percentages are computed from TASKS.md: done 100,
// partial 50, todo 0, per component, per phase and overall; a stale
// docs/roadmap.md is refused.
func TestRoadmapComputedFromTasks(t *testing.T) {
	dir := t.TempDir()
	tasks := filepath.Join(dir, "TASKS.md")
	roadmap := filepath.Join(dir, "roadmap.md")
	if err := os.WriteFile(tasks, []byte(`# tasks

| feature | state | note |
|---|---|---|
| Patients | done | |
| Audit trail | partial | |
| Insurance eligibility | todo | |
| Alerts | done | |
| Backup and restore | todo | |
| Two-level cache | partial | |
| Performance targets | done | |
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runRoadmap(t, tasks, roadmap)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, want := range []string{
		"| Phase 1: core (patients, auth, audit, plugins, import, chat, dashboard), no insurance | 2 | 75% |",
		"| Phase 2: insurance, e-mail and alerts | 2 | 50% |",
		"| Phase 3: advanced features and optimisation | 3 | 50% |",
		"| **all** | 7 | **57%** |",
		"| Audit trail | 50% |", "| Backup and restore | 0% |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}

	if err := os.WriteFile(roadmap, []byte("# r\n<!-- roadmap:begin -->\nold\n<!-- roadmap:end -->\ntail\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runRoadmap(t, tasks, roadmap, "--check"); err == nil {
		t.Error("--check accepted a stale roadmap")
	}
	if out, err := runRoadmap(t, tasks, roadmap, "--write"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out, err := runRoadmap(t, tasks, roadmap, "--check"); err != nil {
		t.Errorf("--check after --write: %v %s", err, out)
	}
	got, _ := os.ReadFile(roadmap)
	if !strings.Contains(string(got), "tail") || strings.Contains(string(got), "old") {
		t.Errorf("--write replaced the wrong part:\n%s", got)
	}
	// An unknown state is an error, not a silent 0%.
	_ = os.WriteFile(tasks, []byte("| feature | state | note |\n|---|---|---|\n| X | maybe | |\n"), 0o600)
	if _, err := runRoadmap(t, tasks, roadmap); err == nil {
		t.Error("an unknown state was accepted")
	}
}

// docs/roadmap.md carries the figures of the current TASKS.md (make
// test-deploy refreshes it first: scripts/roadmap.sh --write).
func TestRoadmapIsCurrent(t *testing.T) {
	out, err := runRoadmap(t, filepath.Join(repoRoot(), "TASKS.md"), filepath.Join(repoRoot(), "docs", "roadmap.md"), "--check")
	if err != nil {
		t.Errorf("%v: %s", err, out)
	}
}
