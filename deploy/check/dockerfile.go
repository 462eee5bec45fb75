package check

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Stage is one FROM … [AS name] of a Dockerfile with the instructions
// that follow it.
type Stage struct {
	Base  string // the image or earlier stage named by FROM
	Name  string // the AS name, lower case
	Nodes []*parser.Node
}

// ParseDockerfile splits a Dockerfile into its stages with BuildKit's
// own parser (the one `docker build` uses).
func ParseDockerfile(src []byte) ([]Stage, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	var stages []Stage
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") {
			var words []string
			for a := n.Next; a != nil; a = a.Next {
				words = append(words, a.Value)
			}
			if len(words) == 0 {
				return nil, fmt.Errorf("parse Dockerfile: line %d: FROM without an image", n.StartLine)
			}
			st := Stage{Base: words[0]}
			if len(words) == 3 && strings.EqualFold(words[1], "as") {
				st.Name = strings.ToLower(words[2])
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			continue // ARG before the first FROM
		}
		stages[len(stages)-1].Nodes = append(stages[len(stages)-1].Nodes, n)
	}
	return stages, nil
}

// Instructions returns the stage's instructions named cmd (lower case).
func (s Stage) Instructions(cmd string) []*parser.Node {
	var out []*parser.Node
	for _, n := range s.Nodes {
		if strings.EqualFold(n.Value, cmd) {
			out = append(out, n)
		}
	}
	return out
}

// Args are the words after the instruction.
func Args(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

// Flag returns the value of --name=value on an instruction ("" if absent).
func Flag(n *parser.Node, name string) string {
	for _, f := range n.Flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// PinnedByDigest reports whether an image reference names a sha256
// digest (a tag alone can be moved).
func PinnedByDigest(ref string) bool {
	_, digest, ok := strings.Cut(ref, "@sha256:")
	if !ok || len(digest) != 64 {
		return false
	}
	for _, c := range digest {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// LintDockerfile checks pfinni's image rules and returns every breach:
// base images (FROM and COPY --from=image) pinned by digest; the final
// images named in targets run as a numeric non-root user and have an
// exec-form HEALTHCHECK running `pfinni healthcheck`; the build stage
// uses Go 1.27.3 and static binaries; no ADD of a URL.
func LintDockerfile(stages []Stage, targets ...string) []string {
	var problems []string
	names := map[string]bool{}
	for i, st := range stages {
		label := st.Name
		if label == "" {
			label = fmt.Sprintf("stage %d", i)
		}
		if !names[strings.ToLower(st.Base)] && !PinnedByDigest(st.Base) {
			problems = append(problems, fmt.Sprintf("%s: FROM %s is not pinned by digest", label, st.Base))
		}
		for _, n := range st.Instructions("copy") {
			if from := Flag(n, "from"); from != "" && !names[strings.ToLower(from)] && !PinnedByDigest(from) {
				problems = append(problems, fmt.Sprintf("%s: COPY --from=%s is not pinned by digest", label, from))
			}
		}
		for _, n := range st.Instructions("add") {
			for _, a := range Args(n) {
				if strings.Contains(a, "://") {
					problems = append(problems, fmt.Sprintf("%s: ADD of a URL (%s)", label, a))
				}
			}
		}
		if st.Name != "" {
			names[st.Name] = true
		}
	}
	byName := map[string]Stage{}
	for _, st := range stages {
		byName[st.Name] = st
	}
	if b, ok := byName["build"]; !ok {
		problems = append(problems, "no build stage")
	} else {
		env := strings.Join(envOf(b), " ")
		run := ""
		for _, n := range b.Instructions("run") {
			run += " " + strings.Join(Args(n), " ")
		}
		if !strings.Contains(env+run, "GOTOOLCHAIN=go1.27.3") {
			problems = append(problems, "build: GOTOOLCHAIN=go1.27.3 not set")
		}
		if !strings.Contains(env, "CGO_ENABLED=0") {
			problems = append(problems, "build: CGO_ENABLED=0 not set (binaries must be static)")
		}
	}
	for _, t := range targets {
		st, ok := byName[t]
		if !ok {
			problems = append(problems, fmt.Sprintf("no %q target", t))
			continue
		}
		users := st.Instructions("user")
		if len(users) == 0 {
			problems = append(problems, t+": no USER (runs as root)")
		} else {
			u := Args(users[len(users)-1])
			uid, _, _ := strings.Cut(strings.Join(u, ""), ":")
			if uid == "" || uid == "0" || uid == "root" || strings.Trim(uid, "0123456789") != "" {
				problems = append(problems, fmt.Sprintf("%s: USER %s is not a numeric non-root uid", t, strings.Join(u, " ")))
			}
		}
		hcs := st.Instructions("healthcheck")
		if len(hcs) == 0 {
			problems = append(problems, t+": no HEALTHCHECK")
		} else {
			hc := hcs[len(hcs)-1]
			if !strings.Contains(hc.Original, "CMD [") || !strings.Contains(hc.Original, `"healthcheck"`) {
				problems = append(problems, t+": HEALTHCHECK is not the exec form of `pfinni healthcheck`")
			}
		}
	}
	return problems
}

// envOf lists a stage's ENV settings as KEY=value.
func envOf(st Stage) []string {
	var out []string
	for _, n := range st.Instructions("env") {
		a := Args(n)
		for i := 0; i+1 < len(a); i += 3 { // ENV nodes are key, value, "=" triples
			out = append(out, a[i]+"="+a[i+1])
		}
	}
	return out
}
