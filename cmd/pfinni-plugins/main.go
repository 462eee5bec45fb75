// Command pfinni-plugins builds the plugins listed in plugin-manifest.yaml
// and keeps the manifest's checksums current. `make plugins` runs
//
//	go run ./cmd/pfinni-plugins build
//
// Subcommands:
//
//	build  build every plugin into its artifact path (WASM with
//	       GOOS=wasip1 GOARCH=wasm -buildmode=c-shared, process plugins
//	       natively; the package is the artifact's directory), then sum
//	sum    rewrite each entry's artifact.sha256 from the file on disk
//	check  validate the manifest, verify every checksum and check each WASM
//	       module as the host will (exports, ABI, build mode); exit 1 on a
//	       problem (a disabled entry's module only warns)
//
// Flags: -manifest PATH (default plugin-manifest.yaml), -only NAME[,NAME].
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/wasmhost"
	"github.com/pfinni/pfinni/sdk"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pfinni-plugins:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: pfinni-plugins build|sum|check [-manifest PATH] [-only NAMES]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	path := fs.String("manifest", "plugin-manifest.yaml", "manifest path")
	only := fs.String("only", "", "comma-separated plugin names")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	m, problems, err := manifest.Load(*path, sdk.Version)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(out, "refused:", p)
	}
	dir := filepath.Dir(*path)
	selected := func(name string) bool {
		return *only == "" || strings.Contains(","+*only+",", ","+name+",")
	}
	switch args[0] {
	case "build":
		for _, e := range m.Plugins {
			if selected(e.Name) {
				if err := build(dir, e, out); err != nil {
					return err
				}
			}
		}
		return sum(*path, selected, out)
	case "sum":
		return sum(*path, selected, out)
	case "check":
		bad := len(problems)
		for _, e := range m.Plugins {
			if !selected(e.Name) {
				continue
			}
			if _, err := manifest.Verify(dir, e); err != nil {
				fmt.Fprintln(out, "bad:", err)
				bad++
				continue
			}
			if err := checkWASM(dir, e); err != nil && !e.IsEnabled() {
				// It loads only if an admin enables it (the hostile stubs).
				fmt.Fprintf(out, "warn: plugin %q (disabled) would be refused: %v\n", e.Name, err)
			} else if err != nil {
				fmt.Fprintf(out, "bad: plugin %q: %v\n", e.Name, err)
				bad++
				continue
			}
			fmt.Fprintf(out, "ok: %s %s (%s)\n", e.Name, e.Version, e.Kind)
		}
		if bad > 0 {
			return fmt.Errorf("%d problem(s) in %s", bad, *path)
		}
		return nil
	}
	return fmt.Errorf("unknown subcommand %q", args[0])
}

// checkWASM makes the host's load-time checks on a WASM artifact: a
// module with no exports, built as a command or against another SDK
// major version fails here rather than at pfinni's start.
func checkWASM(dir string, e manifest.Entry) error {
	if e.Kind != manifest.KindWASM {
		return nil
	}
	bin, err := os.ReadFile(e.ArtifactPath(dir))
	if err != nil {
		return err
	}
	return wasmhost.CheckModule(context.Background(), bin)
}

// build compiles e's package (the artifact's directory) into the artifact.
func build(dir string, e manifest.Entry, out io.Writer) error {
	art := e.ArtifactPath(dir)
	pkg := "./" + filepath.ToSlash(filepath.Dir(e.Artifact.Path))
	goArgs := []string{"build", "-trimpath", "-o", art}
	env := os.Environ()
	if e.Kind == manifest.KindWASM {
		goArgs = append(goArgs, "-buildmode=c-shared")
		env = append(env, "GOOS=wasip1", "GOARCH=wasm")
	}
	if upToDate(dir, pkg, art, env) {
		fmt.Fprintf(out, "up to date %s\n", e.Name)
		return nil
	}
	cmd := exec.Command("go", append(goArgs, pkg)...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, out, out
	fmt.Fprintf(out, "build %s (%s) -> %s\n", e.Name, e.Kind, e.Artifact.Path)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s: %w", e.Name, err)
	}
	return nil
}

// upToDate reports whether art is newer than every non-standard Go
// source (and go.mod) it is built from.
func upToDate(dir, pkg, art string, env []string) bool {
	st, err := os.Stat(art)
	if err != nil {
		return false
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", pkg)
	cmd.Dir, cmd.Env = dir, env
	b, err := cmd.Output()
	if err != nil {
		return false
	}
	dirs := append(strings.Fields(string(b)), dir)
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			return false
		}
		for _, f := range ents {
			if n := f.Name(); strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum" {
				if fi, err := f.Info(); err != nil || fi.ModTime().After(st.ModTime()) {
					return false
				}
			}
		}
	}
	return true
}

// sum rewrites artifact.sha256 of the selected entries whose artifact
// exists, keeping the rest of the file (comments, order, style) as is.
func sum(path string, selected func(string) bool, out io.Writer) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	changed := 0
	for _, p := range manifest.MappingValue(doc.Content[0], "plugins").Content {
		name := manifest.MappingValue(p, "name")
		art := manifest.MappingValue(p, "artifact")
		ap := manifest.MappingValue(art, "path")
		if name == nil || ap == nil || !selected(name.Value) {
			continue
		}
		digest, err := manifest.FileSHA256(filepath.Join(dir, filepath.FromSlash(ap.Value)))
		if err != nil {
			fmt.Fprintf(out, "skip %s: %v\n", name.Value, err)
			continue
		}
		h := hex.EncodeToString(digest)
		if s := manifest.MappingValue(art, "sha256"); s != nil {
			if s.Value != h {
				s.Value, s.Style = h, yaml.DoubleQuotedStyle
				changed++
			}
		} else {
			art.Content = append(art.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Value: "sha256"},
				&yaml.Node{Kind: yaml.ScalarNode, Value: h, Style: yaml.DoubleQuotedStyle})
			changed++
		}
		fmt.Fprintf(out, "sha256 %s %s\n", name.Value, h)
	}
	if changed == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
