package check

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

func shippedStages(t *testing.T) []Stage {
	t.Helper()
	src, err := readRepoFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages, err := ParseDockerfile(src)
	if err != nil {
		t.Fatal(err)
	}
	return stages
}

// The shipped Dockerfile: pinned bases, non-root users, health checks on
// both images, Go 1.27.3 static build.
func TestDockerfileFollowsTheImageRules(t *testing.T) {
	stages := shippedStages(t)
	for _, p := range LintDockerfile(stages, "static", "embedded") {
		t.Error(p)
	}
	last := stages[len(stages)-1]
	if last.Name != "static" {
		t.Errorf("the default target (last stage) is %q, want the small static image", last.Name)
	}
	byName := map[string]Stage{}
	for _, st := range stages {
		byName[st.Name] = st
	}
	if !strings.Contains(byName["static"].Base, "gcr.io/distroless/static") {
		t.Errorf("static image base %q is not distroless static (no shell)", byName["static"].Base)
	}
	for _, n := range byName["static"].Instructions("run") {
		t.Errorf("static image has RUN %q: it has no shell", n.Original)
	}
	// The embedded image is Node 20 (dbhost needs it) and carries dbhost/.
	if emb := byName["embedded"]; emb.Base != "node" || !strings.HasPrefix(byName["node"].Base, "node:20-") {
		t.Errorf("embedded image is not on Node 20: FROM %s (node = %s)", emb.Base, byName["node"].Base)
	}
	if !copies(byName["embedded"], "/src/dbhost") {
		t.Error("embedded image does not copy the engine host dbhost/")
	}
	if copies(byName["static"], "/src/dbhost") {
		t.Error("static image copies dbhost/: it is for an external database")
	}
	if !strings.Contains(strings.Join(envOf(byName["embedded"]), " "), "PFINNI_DBHOST_DIR=/opt/pfinni/dbhost") {
		t.Error("embedded image does not point PFINNI_DBHOST_DIR at its dbhost/")
	}
	// The build stage has Node for the web bundle.
	if !copies(byName["build"], "/usr/local/bin/node") {
		t.Error("build stage has no Node.js for the web bundle")
	}
}

func copies(st Stage, src string) bool {
	for _, n := range st.Instructions("copy") {
		for _, a := range Args(n) {
			if a == src {
				return true
			}
		}
	}
	return false
}

// The rules catch what they are meant to catch.
func TestDockerfileLintFindsBreaches(t *testing.T) {
	bad := `FROM golang:1.26 AS build
RUN go build ./...
ADD https://example.org/x.tgz /x
FROM debian:bookworm AS static
COPY --from=alpine:3 /bin/sh /bin/sh
HEALTHCHECK CMD curl -f http://localhost:8080/readyz
FROM scratch AS embedded
USER 0
`
	stages, err := ParseDockerfile([]byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(LintDockerfile(stages, "static", "embedded"), "\n")
	for _, want := range []string{
		"FROM golang:1.26 is not pinned", "FROM debian:bookworm is not pinned", "COPY --from=alpine:3 is not pinned",
		"ADD of a URL", "GOTOOLCHAIN=go1.27.3 not set", "CGO_ENABLED=0 not set",
		"static: no USER", "static: HEALTHCHECK is not the exec form", "embedded: USER 0 is not", "embedded: no HEALTHCHECK",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lint missed %q; got:\n%s", want, got)
		}
	}
}

// .dockerignore keeps host state, secrets and built files out of the
// build context, and keeps the sources in.
func TestDockerignoreExcludesLocalState(t *testing.T) {
	src, err := readRepoFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := ignorefile.ReadAll(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := []string{
		"node_modules/x/index.js", "dbhost/node_modules/@surrealdb/node/index.js", "web/node_modules/esbuild/package.json",
		"data/pfinni.db/LOCK", "data/audit.key", "bin/pfinni", ".git/HEAD", ".cache/vulndb/index/db.json",
		".env", "deploy/nginx/certs/localhost.key", "coverage.out", "plugins/importer-ccda/importer-ccda.wasm",
	}
	for _, p := range excluded {
		if m, err := pm.MatchesOrParentMatches(p); err != nil || !m {
			t.Errorf("%s is sent to the build (err %v)", p, err)
		}
	}
	kept := []string{"go.mod", "cmd/pfinni/main.go", "dbhost/package-lock.json", "web/src/app.js", ".env.example",
		"plugin-manifest.yaml", "plugins/importer-ccda/main.go", "Makefile", "mk/web.mk"}
	for _, p := range kept {
		if m, _ := pm.MatchesOrParentMatches(p); m {
			t.Errorf("%s is excluded but the build needs it", p)
		}
	}
}
