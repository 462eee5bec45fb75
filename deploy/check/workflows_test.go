package check

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var usesLine = regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)
var pinnedUses = regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)

type workflow struct {
	Permissions any `yaml:"permissions"`
	Jobs        map[string]struct {
		Permissions any `yaml:"permissions"`
	} `yaml:"jobs"`
}

// lintWorkflow checks pfinni's rules for a GitHub Actions workflow: every
// action pinned to a commit SHA with its version in a comment, and
// least-privilege permissions (read-only contents at the top, never
// write-all).
func lintWorkflow(name string, src []byte) []string {
	var problems []string
	for _, m := range usesLine.FindAllStringSubmatch(string(src), -1) {
		ref, rest := m[1], m[2]
		if strings.HasPrefix(ref, "./") {
			continue // a local action
		}
		if !pinnedUses.MatchString(ref) {
			problems = append(problems, name+": "+ref+" is not pinned to a commit SHA")
		} else if !regexp.MustCompile(`#\s*v\d`).MatchString(rest) {
			problems = append(problems, name+": "+ref+" has no version comment")
		}
	}
	var wf workflow
	if err := yaml.Unmarshal(src, &wf); err != nil {
		return append(problems, name+": "+err.Error())
	}
	top, ok := wf.Permissions.(map[string]any)
	if !ok || len(top) != 1 || top["contents"] != "read" {
		problems = append(problems, name+": top-level permissions must be exactly {contents: read}")
	}
	for job, j := range wf.Jobs {
		if s, ok := j.Permissions.(string); ok && s == "write-all" {
			problems = append(problems, name+": job "+job+" has write-all")
		}
	}
	return problems
}

func TestWorkflowsArePinnedAndLeastPrivilege(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot(), ".github", "workflows", "*.yml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("workflows: %v %v", files, err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range lintWorkflow(filepath.Base(f), src) {
			t.Error(p)
		}
	}
}

func TestWorkflowLintFindsBreaches(t *testing.T) {
	bad := `on: push
permissions: write-all
jobs:
  a:
    runs-on: ubuntu-24.04
    permissions: write-all
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@b7ad1dad31e06c5925ef5d2fc7ad053ef454303e
`
	got := strings.Join(lintWorkflow("bad.yml", []byte(bad)), "\n")
	for _, want := range []string{"actions/checkout@v4 is not pinned", "no version comment", "top-level permissions", "job a has write-all"} {
		if !strings.Contains(got, want) {
			t.Errorf("lint missed %q in:\n%s", want, got)
		}
	}
}
