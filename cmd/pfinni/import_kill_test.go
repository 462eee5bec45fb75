package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// An import runs on the job queue: `pfinni import` killed with SIGKILL
// mid-way leaves its import running with its queue job's lease held by
// the dead process; once that lease expires, a `pfinni serve` on the same
// database takes the import over through the queue and finishes it.
// Every file is done exactly once and the import is done.
func TestImportSurvivesSIGKILLOfTheCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, kills an import process")
	}
	const files = 300
	bin := buildBinary(t)
	urlf, err := storetest.Engine()
	require.NoError(t, err)
	cfg := storetest.Config(t)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	manifest, err := importertest.WriteManifest(t.TempDir())
	require.NoError(t, err)

	docs := t.TempDir()
	for i := range files {
		doc := fmt.Sprintf(`<Patient xmlns="http://hl7.org/fhir"><identifier><system value="urn:oid:1.2.3.4"/><value value="KILL-%04d"/></identifier>`+
			`<name><family value="Number%d"/><given value="Pat"/></name><gender value="female"/><birthDate value="1970-01-01"/></Patient>`, i, i)
		require.NoError(t, os.WriteFile(filepath.Join(docs, fmt.Sprintf("p%04d.xml", i)), []byte(doc), 0o644))
	}

	// The instance that will take the import over.
	_, _ = startServe(t, bin, urlf(), cfg.Database, "PFINNI_PLUGINS_MANIFEST="+manifest)

	user, pass := storetest.Credentials()
	dir := t.TempDir()
	cli := exec.Command(bin, "import", docs)
	cli.Dir = dir
	cli.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PFINNI_DATA_DIR=" + dir,
		"PFINNI_DB_URL=" + urlf(), "PFINNI_DB_NAMESPACE=test", "PFINNI_DB_DATABASE=" + cfg.Database,
		"PFINNI_DB_USER=" + user, "PFINNI_DB_PASSWORD=" + pass,
		"PFINNI_PLUGINS_MANIFEST=" + manifest, "PFINNI_LOG_LEVEL=error"}
	out := &syncBuffer{}
	cli.Stdout, cli.Stderr = out, out
	require.NoError(t, cli.Start())
	t.Cleanup(func() { _ = cli.Process.Kill(); _, _ = cli.Process.Wait() })
	progress := regexp.MustCompile(`(?m)^(\d+)/\d+ `)
	done := func() int {
		m := progress.FindAllStringSubmatch(out.String(), -1)
		if len(m) == 0 {
			return 0
		}
		n, _ := strconv.Atoi(m[len(m)-1][1])
		return n
	}
	require.Eventually(t, func() bool { return done() >= 20 }, 3*time.Minute, 20*time.Millisecond,
		"the import makes progress: %s", out)
	require.NoError(t, cli.Process.Kill()) // SIGKILL: its lease stays until it expires
	_, _ = cli.Process.Wait()
	killedAt := done()
	require.Less(t, killedAt, files, "killed before the end")

	type importRow struct {
		Key    string `json:"key"`
		Status string `json:"status"`
	}
	var imp importRow
	require.Eventually(t, func() bool {
		rows, err := store.Query[[]importRow](ctx, db, "SELECT record::id(id) AS key, status FROM import_job", nil)
		if err != nil || len(rows) != 1 {
			return false
		}
		imp = rows[0]
		return imp.Status == importer.StatusDone
	}, 4*time.Minute, 250*time.Millisecond, "the serving instance finishes the import")

	// The queue records a success in batches, a moment after the
	// handler (the import) returned.
	var qjobs []jobs.Job
	require.Eventually(t, func() bool {
		var err error
		qjobs, _, err = jobs.NewAdmin(db, nil).List(ctx, jobs.Filter{Kind: importer.KindProcess})
		return err == nil && len(qjobs) == 1 && qjobs[0].State != jobs.Running
	}, 2*time.Minute, 100*time.Millisecond, "the import's queue job ends")
	require.Len(t, qjobs, 1, "one queue job for the import")
	assert.Equal(t, jobs.Succeeded, qjobs[0].State)
	assert.Equal(t, 2, qjobs[0].Attempts, "taken over once, after the killed process's lease expired")

	type fileRow struct {
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
	}
	fs, err := store.Query[[]fileRow](ctx, db, "SELECT state, attempts FROM import_file WHERE job = $k", map[string]any{"k": imp.Key})
	require.NoError(t, err)
	require.Len(t, fs, files)
	for _, f := range fs {
		assert.Equal(t, "done", f.State)
		assert.Equal(t, 1, f.Attempts, "no file is done twice")
	}
	t.Logf("the CLI was killed after %d of %d files; the serving instance finished the rest", killedAt, files)
}
