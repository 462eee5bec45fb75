// Package importertest builds a complete import stack for tests: the two
// real importer plugins (C-CDA and FHIR XML, built as WASM once per
// source state), a plugin registry loading them from a test manifest,
// the patient service and an importer.Service on a storetest database.
//
// For tests only: never import it from production code.
package importertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/plugins/importer-ccda/ccda"
	"github.com/pfinni/pfinni/plugins/importer-csv/csvimport"
	"github.com/pfinni/pfinni/plugins/importer-fhir/fhir"
	"github.com/pfinni/pfinni/sdk"
)

// Importers are the first-party importer plugins and the formats each serves.
var Importers = []struct{ Name, Format string }{
	{"importer-ccda", importer.FormatCCDA},
	{"importer-fhir", importer.FormatFHIRXML},
	{"importer-csv", importer.FormatCSV},
}

// WriteManifest builds the importer plugins (cached), copies them into
// dir and writes dir/plugin-manifest.yaml with their checksums. It
// returns the manifest path.
func WriteManifest(dir string) (string, error) {
	var b strings.Builder
	b.WriteString("schema: " + manifest.Schema + "\nplugins:\n")
	for _, p := range Importers {
		src, err := plugintest.BuildWASM("plugins/" + p.Name)
		if err != nil {
			return "", err
		}
		rel := "plugins/" + p.Name + "/" + p.Name + ".wasm"
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		bin, err := os.ReadFile(src)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, bin, 0o644); err != nil {
			return "", err
		}
		sum, err := manifest.FileSHA256(dst)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "  - name: %s\n    version: 1.0.0\n    kind: wasm\n    sdk: \">=1.0.0 <2.0.0\"\n    artifact: {path: %s, sha256: %x}\n    provides: {importFormats: [%s]}\n    limits: {timeout: 30s, memory: 256MiB, concurrency: 2, interruptible: false}\n",
			p.Name, rel, sum, p.Format)
	}
	path := filepath.Join(dir, "plugin-manifest.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// Build builds the importer plugins once (call it from TestMain so the
// first test does not pay for the build inside its deadline).
func Build() error {
	for _, p := range Importers {
		if _, err := plugintest.BuildWASM("plugins/" + p.Name); err != nil {
			return err
		}
	}
	return nil
}

// Env is an import stack on one test database.
type Env struct {
	DB       *store.DB
	Audit    importer.Auditor
	Patients *patient.Service
	Registry *plugin.Registry
	Imports  *importer.Service
	Review   *review.Service // the identity review queue the imports fill
}

// Recorder is the in-memory auditor Env uses when none is given.
type Recorder = patienttest.Auditor

// New builds the stack on db. aud may be nil (an in-memory Recorder is
// used). Everything is closed when the test ends.
func New(tb testing.TB, db *store.DB, aud importer.Auditor, opts importer.Options) *Env {
	tb.Helper()
	return NewWith(tb, db, aud, nil, opts)
}

// Native parses in-process with the importer plugins' own parser
// packages (no WASM): for benchmarks that separate the pipeline's cost
// from the sandbox's.
type Native struct{}

// Import routes req by format to the C-CDA or FHIR parser.
func (Native) Import(ctx context.Context, req sdk.ImportRequest) (sdk.ImportResult, error) {
	if req.Format == importer.FormatFHIRXML {
		return fhir.Importer{}.Import(ctx, req)
	}
	if req.Format == importer.FormatCSV {
		return csvimport.Importer{}.Import(ctx, req)
	}
	return ccda.Importer{}.Import(ctx, req)
}

// NewWith is New with the documents parsed by imp instead of the plugin
// registry (which is still started) when imp is not nil.
func NewWith(tb testing.TB, db *store.DB, aud importer.Auditor, imp sdk.Importer, opts importer.Options) *Env {
	tb.Helper()
	return newEnv(tb, db, aud, imp, opts, true)
}

// NewWithoutReview is New without the identity review queue: records a
// person would decide on are rejected (and quarantined) instead.
func NewWithoutReview(tb testing.TB, db *store.DB, aud importer.Auditor, opts importer.Options) *Env {
	tb.Helper()
	return newEnv(tb, db, aud, nil, opts, false)
}

func newEnv(tb testing.TB, db *store.DB, aud importer.Auditor, imp sdk.Importer, opts importer.Options, withReview bool) *Env {
	tb.Helper()
	if aud == nil {
		aud = &Recorder{}
	}
	ctx := context.Background()
	pats, err := patient.New(ctx, db, aud, patient.WithoutLive())
	if err != nil {
		tb.Fatalf("patient service: %v", err)
	}
	tb.Cleanup(func() { _ = pats.Close() })
	path, err := WriteManifest(tb.TempDir())
	if err != nil {
		tb.Fatalf("importer plugins: %v", err)
	}
	reg, err := plugin.New(plugin.Options{ManifestPath: path, DataDir: plugintest.DataDir()})
	if err != nil {
		tb.Fatalf("plugin registry: %v", err)
	}
	if err := reg.Start(ctx); err != nil {
		tb.Fatalf("plugin registry: %v", err)
	}
	tb.Cleanup(func() { _ = reg.Close(context.Background()) })
	if got := reg.ImportFormats(); len(got) != len(Importers) {
		tb.Fatalf("importer plugins not in service: formats %v; plugins %+v", got, reg.List())
	}
	if imp == nil {
		imp = reg
	}
	queue := review.NewQueue(db, aud)
	deps := importer.Deps{DB: db, Importer: imp, Patients: pats, Providers: pats, Auditor: aud}
	if withReview {
		deps.Review = queue
	}
	svc, err := importer.New(deps, opts)
	if err != nil {
		tb.Fatalf("import service: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = svc.Close(ctx)
	})
	return &Env{DB: db, Audit: aud, Patients: pats, Registry: reg, Imports: svc, Review: review.New(queue, pats, svc)}
}

// SamplesDir returns ../shared/testdata relative to the repository root
// (the public sample documents), or "" when it is not present.
func SamplesDir() string {
	root, err := plugintest.Root()
	if err != nil {
		return ""
	}
	dir := filepath.Join(root, "..", "shared", "testdata")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}
