package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/pfinni/pfinni"

// layer is a group of packages named by path prefixes (relative to the
// module root). A package belongs to the layer with the longest matching
// prefix.
type layer struct {
	name     string
	prefixes []string
	// may lists the layers this one may import (itself always allowed).
	may []string
	// thirdParty lists import-path prefixes outside the module and the
	// standard library that only this layer (and the ones listing it in
	// may) is allowed; see rules.clients.
}

// rules is the import policy of ARCHITECTURE.md.
type rules struct {
	layers []layer
	// clients maps a third-party import prefix to the package prefixes
	// allowed to import it: runtimes and clients stay in their package.
	clients map[string][]string
	// debt lists imports that break a rule today and are scheduled to go
	// (issue 17 item 2): "importer -> imported". A listed import that no
	// longer exists fails the test, so the list only shrinks.
	debt []string
}

func policy() rules {
	return rules{
		layers: []layer{
			// Leaves: value types and helpers with no pfinni imports but
			// each other. internal/ is shared by core and plugins.
			{name: "leaf", prefixes: []string{"internal/", "core/actor", "core/fault", "core/config", "core/telemetry", "core/dbengine", "core/audit/auditevent", "core/plugin/intent"}, may: []string{"sdk"}},
			// The database: connection, schema, live queries.
			{name: "store", prefixes: []string{"core/store"}, may: []string{"leaf"}},
			// The plugin host: manifest, runtimes, registry. It knows the
			// SDK and the audit trail, never a domain service.
			{name: "pluginhost", prefixes: []string{"core/plugin"}, may: []string{"leaf", "sdk", "store", "audit", "runtime"}},
			// Plugin runtimes and the host-call door: no database client,
			// no audit package (value types come from leaves).
			{name: "runtime", prefixes: []string{"core/plugin/wasmhost", "core/plugin/processhost", "core/plugin/hostcall", "core/plugin/fault", "core/plugin/manifest"}, may: []string{"leaf", "sdk"}},
			// The audit trail, on which every domain service writes.
			{name: "audit", prefixes: []string{"core/audit"}, may: []string{"leaf", "store"}},
			// Domain services: everything else under core/ (patients,
			// auth, jobs, chat, importer, alerts, ...). They may use each
			// other, the store, the audit trail and the plugin host, but
			// never a transport (HTTP, pages) or the wiring.
			{name: "domain", prefixes: []string{"core/"}, may: []string{"leaf", "store", "audit", "pluginhost", "runtime", "sdk"}},
			// Transports: the JSON API, the pages, the one login layer.
			{name: "transport", prefixes: []string{"core/api", "core/dashboard", "core/httpauth"}, may: []string{"leaf", "store", "audit", "pluginhost", "runtime", "domain", "sdk", "web"}},
			// Front-end assets embedded in the binary.
			{name: "web", prefixes: []string{"web"}, may: []string{"leaf"}},
			// Wiring: builds every subsystem once.
			{name: "wiring", prefixes: []string{"core/app"}, may: []string{"leaf", "store", "audit", "pluginhost", "runtime", "domain", "transport", "sdk", "web"}},
			// The commands.
			{name: "command", prefixes: []string{"cmd/"}, may: []string{"leaf", "store", "audit", "pluginhost", "runtime", "domain", "transport", "wiring", "sdk", "web", "plugin"}},
			// The SDK (its own module): nothing of pfinni's.
			{name: "sdk", prefixes: []string{"sdk"}},
			// Plugins and the examples authors copy: the SDK and shared
			// helpers only, never the core.
			{name: "plugin", prefixes: []string{"plugins/"}, may: []string{"sdk", "leaf"}},
			{name: "example", prefixes: []string{"examples/"}, may: []string{"sdk"}},
			// Test kits: helpers for tests that need the core and real
			// plugins together. Only _test.go files import them.
			{name: "testkit", prefixes: []string{"internal/testkit/"}, may: []string{"leaf", "store", "audit", "pluginhost", "runtime", "domain", "sdk", "plugin"}},
		},
		clients: map[string][]string{
			"github.com/surrealdb/surrealdb.go": {"core/store"},
			"github.com/tetratelabs/wazero":     {"core/plugin/wasmhost"},
			// cmd/pfinni kills process plugins left running at exit.
			"github.com/hashicorp/go-plugin": {"core/plugin/processhost", "sdk/process", "cmd/pfinni"},
			"github.com/gofiber/":            {"core/api", "core/dashboard", "core/httpauth", "core/app", "cmd/"},
		},
		debt: []string{
			// The domain still speaks the database client's types
			// (issue 17 item 2, next session).
			"core/audit -> github.com/surrealdb/surrealdb.go",
			"core/auth -> github.com/surrealdb/surrealdb.go",
			"core/chat -> github.com/surrealdb/surrealdb.go",
			"core/eligibility -> github.com/surrealdb/surrealdb.go",
			"core/importer -> github.com/surrealdb/surrealdb.go",
			"core/patient -> github.com/surrealdb/surrealdb.go",
			"core/webhooks -> github.com/surrealdb/surrealdb.go",
			// Added this session by new domain packages (the identity
			// review queue, saved views): to move behind core/store too.
			"core/review -> github.com/surrealdb/surrealdb.go",
			"core/views -> github.com/surrealdb/surrealdb.go",
		},
	}
}

// layerOf returns the layer of rel (a path relative to the module root).
func (r rules) layerOf(rel string) (layer, bool) {
	best, bestLen := layer{}, -1
	for _, l := range r.layers {
		for _, p := range l.prefixes {
			if matches(rel, p) && len(p) > bestLen {
				best, bestLen = l, len(p)
			}
		}
	}
	return best, bestLen >= 0
}

// matches reports whether rel is under prefix: "core/" matches any
// package below core, "core/store" matches core/store and core/store/x.
func matches(rel, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(rel, prefix)
	}
	return rel == prefix || strings.HasPrefix(rel, prefix+"/")
}

// check returns the violations of one import, "" when it is allowed.
func (r rules) check(from, imp string) string {
	fromRel := strings.TrimPrefix(strings.TrimPrefix(from, module), "/")
	if imp == module || strings.HasPrefix(imp, module+"/") {
		impRel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
		fl, ok := r.layerOf(fromRel)
		if !ok {
			return fmt.Sprintf("%s is in no layer of ARCHITECTURE.md (add its prefix to archtest)", fromRel)
		}
		il, ok := r.layerOf(impRel)
		if !ok {
			return fmt.Sprintf("%s imports %s, which is in no layer", fromRel, impRel)
		}
		if matches(impRel, "core/app") && fl.name != "command" && fl.name != "wiring" {
			return fmt.Sprintf("%s (%s) imports the wiring %s", fromRel, fl.name, impRel)
		}
		if fl.name == il.name || slices.Contains(fl.may, il.name) {
			return ""
		}
		return fmt.Sprintf("%s (%s) may not import %s (%s)", fromRel, fl.name, impRel, il.name)
	}
	for client, allowed := range r.clients {
		if !strings.HasPrefix(imp, client) {
			continue
		}
		for _, a := range allowed {
			if matches(fromRel, a) {
				return ""
			}
		}
		if slices.Contains(r.debt, fromRel+" -> "+strings.TrimSuffix(client, "/")) {
			return ""
		}
		return fmt.Sprintf("%s imports %s, which only %s may import", fromRel, imp, strings.Join(allowed, ", "))
	}
	return ""
}

// pkg is the part of `go list -json` the rules read.
type pkg struct {
	ImportPath   string
	Name         string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// goList lists the packages matching patterns in dir with extra
// environment variables set.
func goList(t *testing.T, dir string, env []string, patterns ...string) []pkg {
	t.Helper()
	args := append([]string{"list", "-e", "-json=ImportPath,Name,Imports,TestImports,XTestImports,Error"}, patterns...)
	cmd := exec.Command(goBin(), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list in %s: %v\n%s", dir, err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// goBin is the go command of the toolchain running the test (so that
// GOTOOLCHAIN is honoured), or the one on PATH.
func goBin() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		return "go"
	}
	return p
}

func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// modulePackages lists the root module's packages as built for the
// server and, for the plugin tree, as built for WASM as well.
func modulePackages(t *testing.T) []pkg {
	dir := root(t)
	pkgs := goList(t, dir, nil, "./...")
	pkgs = append(pkgs, goList(t, dir, []string{"GOOS=wasip1", "GOARCH=wasm"}, "./plugins/...", "./examples/...", "./internal/...")...)
	for _, p := range goList(t, filepath.Join(dir, "sdk"), nil, "./...") {
		// The SDK is its own module under the same path prefix.
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportsFollowTheLayers(t *testing.T) {
	r := policy()
	used := map[string]bool{}
	var bad []string
	for _, p := range modulePackages(t) {
		if p.Error != nil {
			continue // a package mid-edit by someone else is not ours to judge
		}
		for _, imp := range p.Imports {
			if msg := r.check(p.ImportPath, imp); msg != "" {
				bad = append(bad, msg)
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
			for _, d := range r.debt {
				from, to, _ := strings.Cut(d, " -> ")
				if from == rel && strings.HasPrefix(imp, to) {
					used[d] = true
				}
			}
		}
	}
	sort.Strings(bad)
	bad = slices.Compact(bad)
	for _, b := range bad {
		t.Error(b)
	}
	for _, d := range r.debt {
		if !used[d] {
			t.Errorf("debt %q is paid: remove it from archtest's list", d)
		}
	}
}

// Examples are what plugin authors copy: their tests use the SDK and its
// sdktest package only, never the core.
func TestExamplesTestAgainstTheSDKOnly(t *testing.T) {
	for _, p := range modulePackages(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if !matches(rel, "examples/") {
			continue
		}
		for _, imp := range append(slices.Clone(p.TestImports), p.XTestImports...) {
			if strings.HasPrefix(imp, module+"/") && !strings.HasPrefix(imp, module+"/sdk") {
				t.Errorf("%s's tests import %s: examples test against sdk and sdk/sdktest only", rel, imp)
			}
		}
	}
}

// A package whose name ends in "test" is a test helper that other
// packages' tests import; in the core it must not pull plugins in (test
// helpers that need plugins live in _test.go files or under plugins/).
func TestCoreTestHelpersDoNotImportPlugins(t *testing.T) {
	for _, p := range modulePackages(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if !matches(rel, "core/") {
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/plugins/") {
				t.Errorf("%s imports %s", rel, imp)
			}
		}
	}
}

// Test kits are for tests: no package's non-test code imports one but
// another kit.
func TestTestKitsOnlyInTests(t *testing.T) {
	for _, p := range modulePackages(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if matches(rel, "internal/testkit/") {
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/internal/testkit/") {
				t.Errorf("%s imports the test kit %s outside a _test.go file", rel, imp)
			}
		}
	}
}

// The assistant and the WASM runtime stay light: core/chat does not pull
// in a plugin runtime, and the runtimes do not pull in the database
// client (they name what they need through leaf packages).
func TestLeavesKeepRuntimesOut(t *testing.T) {
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{"core/chat", []string{"github.com/tetratelabs/wazero/", "github.com/hashicorp/go-plugin/", module + "/core/plugin/wasmhost", module + "/core/plugin/processhost"}},
		{"core/plugin/wasmhost", []string{"github.com/surrealdb/surrealdb.go/", module + "/core/audit", module + "/core/store"}},
		{"core/plugin/hostcall", []string{"github.com/surrealdb/surrealdb.go/", module + "/core/audit", module + "/core/store"}},
		{"internal/textmatch", []string{module + "/core/", module + "/plugins/"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			deps := goListDeps(t, module+"/"+tt.pkg)
			for _, d := range deps {
				for _, f := range tt.forbidden {
					if d == strings.TrimSuffix(f, "/") || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) {
						t.Errorf("%s depends on %s", tt.pkg, d)
					}
				}
			}
		})
	}
}

// goListDeps lists the packages p depends on, itself included.
func goListDeps(t *testing.T, p string) []string {
	t.Helper()
	cmd := exec.Command(goBin(), "list", "-deps", p)
	cmd.Dir = root(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", p, err, stderr.String())
	}
	return strings.Fields(string(out))
}

func TestRulesClassifyByPrefix(t *testing.T) {
	r := policy()
	tests := []struct {
		name, from, imp string
		ok              bool
	}{
		{"new domain package uses the store", "core/alerts", "core/store", true},
		{"domain may not import the API", "core/alerts", "core/api", false},
		{"domain may not import the wiring", "core/patient", "core/app", false},
		{"transport may import a domain", "core/api", "core/ratelimit", true},
		{"runtime may not import audit", "core/plugin/wasmhost", "core/audit", false},
		{"runtime uses the audit value type", "core/plugin/hostcall", "core/audit/auditevent", true},
		{"plugin host may not import a domain", "core/plugin", "core/patient", false},
		{"plugin may not import the core", "plugins/intent-patients/patients", "core/patient", false},
		{"plugin uses internal helpers", "plugins/internal/nlu", "internal/textmatch", true},
		{"sdk imports nothing of pfinni", "sdk", "core/actor", false},
		{"example uses the sdk", "examples/intent-hello", "sdk/wasm", true},
		{"leaf stays a leaf", "core/fault", "core/store", false},
		{"wazero outside its runtime", "core/chat", "github.com/tetratelabs/wazero", false},
		{"surrealdb in the store", "core/store", "github.com/surrealdb/surrealdb.go/pkg/models", true},
		{"surrealdb in a new domain package", "core/newdomain", "github.com/surrealdb/surrealdb.go/pkg/models", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp := tt.imp
			if !strings.Contains(imp, ".") {
				imp = module + "/" + imp
			}
			msg := r.check(module+"/"+tt.from, imp)
			if (msg == "") != tt.ok {
				t.Errorf("check(%s, %s) = %q, want allowed=%v", tt.from, tt.imp, msg, tt.ok)
			}
		})
	}
}
